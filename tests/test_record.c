#include "testutil.h"
static const struct tu_test tests[] = {{NULL, NULL}};
int main(void) { return tu_main("record", tests); }
