// CBLAS from OpenBLAS (Debian: libopenblas-dev, which provides cblas.h and libopenblas.so).
#include <cblas.h>
// Thread count control (OpenBLAS extension).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
