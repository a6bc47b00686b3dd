// Deliberately breaks .clang-format: tests/CMakeLists.txt runs check_format.sh on this file
// and expects it to be named. (.cc, so the check of tracked .cpp/.h files skips it.)
int  sample( int x ){ if(x>0){return x;} return -x; }
