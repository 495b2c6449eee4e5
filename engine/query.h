/* Being written. */
#ifndef MF_QUERY_H
#define MF_QUERY_H
#endif
