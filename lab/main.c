/* conlab — the lab's entry point (placeholder while the lab is built). */
#include <stdio.h>
int main(void)
{
    puts("conlab");
    return 0;
}
