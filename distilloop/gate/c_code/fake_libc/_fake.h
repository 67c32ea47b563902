/* Stub declarations for parsing answers with pycparser (never compiled into anything). Only what a
   parser needs: type names and the macros that expand into expressions. */
#ifndef DISTILLOOP_FAKE_H
#define DISTILLOOP_FAKE_H
/* One declaration for every standard type name: the parser only needs to know they are types, and
   one declaration parses far faster than forty. */
typedef int int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t,
    int_least8_t, int_least16_t, int_least32_t, int_least64_t, uint_least8_t, uint_least16_t, uint_least32_t,
    uint_least64_t, int_fast8_t, int_fast16_t, int_fast32_t, int_fast64_t, uint_fast8_t, uint_fast16_t,
    uint_fast32_t, uint_fast64_t, intptr_t, uintptr_t, intmax_t, uintmax_t, size_t, ssize_t, ptrdiff_t,
    wchar_t, wint_t, max_align_t, FILE, fpos_t, va_list, errno_t, time_t, clock_t, sig_atomic_t, jmp_buf,
    div_t, ldiv_t, pid_t, off_t, useconds_t;
struct tm { int tm_sec; int tm_min; int tm_hour; int tm_mday; int tm_mon; int tm_year; int tm_wday; int tm_yday; int tm_isdst; };
struct timespec { time_t tv_sec; long tv_nsec; };
#define bool _Bool
#define true 1
#define false 0
#define __bool_true_false_are_defined 1
#define NULL ((void *)0)
#define EOF (-1)
#define offsetof(type, member) ((size_t)0)
#define assert(expression) ((void)0)
#define static_assert _Static_assert
#define va_start(ap, last) ((void)0)
#define va_arg(ap, type) (*(type *)0)
#define va_end(ap) ((void)0)
#define va_copy(dest, src) ((void)0)
#define INT8_C(x) (x)
#define INT16_C(x) (x)
#define INT32_C(x) (x)
#define INT64_C(x) (x ## LL)
#define UINT8_C(x) (x)
#define UINT16_C(x) (x)
#define UINT32_C(x) (x ## U)
#define UINT64_C(x) (x ## ULL)
#define INTMAX_C(x) (x ## LL)
#define UINTMAX_C(x) (x ## ULL)
#define INT8_MIN (-128)
#define INT16_MIN (-32768)
#define INT32_MIN (-2147483647 - 1)
#define INT64_MIN (-9223372036854775807LL - 1)
#define INT8_MAX 127
#define INT16_MAX 32767
#define INT32_MAX 2147483647
#define INT64_MAX 9223372036854775807LL
#define UINT8_MAX 255U
#define UINT16_MAX 65535U
#define UINT32_MAX 4294967295U
#define UINT64_MAX 18446744073709551615ULL
#define SIZE_MAX UINT64_MAX
#define INTPTR_MAX INT64_MAX
#define UINTPTR_MAX UINT64_MAX
#define PTRDIFF_MAX INT64_MAX
#define CHAR_BIT 8
#define SCHAR_MIN (-128)
#define SCHAR_MAX 127
#define UCHAR_MAX 255
#define CHAR_MIN (-128)
#define CHAR_MAX 127
#define SHRT_MIN (-32768)
#define SHRT_MAX 32767
#define USHRT_MAX 65535
#define INT_MIN (-2147483647 - 1)
#define INT_MAX 2147483647
#define UINT_MAX 4294967295U
#define LONG_MIN (-9223372036854775807L - 1)
#define LONG_MAX 9223372036854775807L
#define ULONG_MAX 18446744073709551615UL
#define LLONG_MIN (-9223372036854775807LL - 1)
#define LLONG_MAX 9223372036854775807LL
#define ULLONG_MAX 18446744073709551615ULL
#define FLT_MAX 3.40282347e+38F
#define FLT_MIN 1.17549435e-38F
#define FLT_EPSILON 1.19209290e-7F
#define DBL_MAX 1.7976931348623157e+308
#define DBL_MIN 2.2250738585072014e-308
#define DBL_EPSILON 2.2204460492503131e-16
#define PRIu8 "u"
#define PRIu16 "u"
#define PRIu32 "u"
#define PRIu64 "llu"
#define PRId8 "d"
#define PRId16 "d"
#define PRId32 "d"
#define PRId64 "lld"
#define PRIx8 "x"
#define PRIx16 "x"
#define PRIx32 "x"
#define PRIx64 "llx"
#define PRIX8 "X"
#define PRIX16 "X"
#define PRIX32 "X"
#define PRIX64 "llX"
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define BUFSIZ 8192
#define errno (*distilloop_errno())
#define EDOM 33
#define ERANGE 34
#define EINVAL 22
#define HUGE_VAL (1e300 * 1e300)
#define INFINITY (1e300 * 1e300)
#define NAN (0.0 / 0.0)
#define M_PI 3.14159265358979323846
#define CLOCKS_PER_SEC 1000000L
#define SIGINT 2
#define SIGTERM 15
#define alignof _Alignof
#define alignas _Alignas
#define noreturn _Noreturn
#define stdin ((FILE *)0)
#define stdout ((FILE *)0)
#define stderr ((FILE *)0)
#endif
