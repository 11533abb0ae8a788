#include <criterion/criterion.h>
Test(guestlink, stub) {}
