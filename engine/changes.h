/* Being written. */
#ifndef MF_CHANGES_H
#define MF_CHANGES_H
#endif
