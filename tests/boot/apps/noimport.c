/* Imports a function no Kiln kernel provides: inspect must mark it, build must refuse. */
__attribute__((import_module("env"), import_name("frobnicate"))) int frobnicate(int);
int main(void) { return frobnicate(1); }
