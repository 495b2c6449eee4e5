/* Being written. */
#ifndef MF_CACHE_H
#define MF_CACHE_H
#endif
