/* conlab-node — placeholder while the runtime is built. */
#include <stdio.h>
int main(void)
{
    puts("conlab-node");
    return 0;
}
