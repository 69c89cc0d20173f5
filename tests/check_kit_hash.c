/* check_kit_hash — the kit's hashes: FNV-1a's published test vectors, a finalizer that is a
 * bijection on the values tried, and the hex form round-tripping and refusing junk. */
#include <check.h>
#include <string.h>

#include "hash.h"
#include "rng.h"
#include "util.h"

START_TEST(fnv1a_matches_the_published_vectors)
{
    ck_assert_uint_eq(hash_bytes(HASH_SEED, "", 0), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(hash_bytes(HASH_SEED, "a", 1), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(hash_bytes(HASH_SEED, "foobar", 6), 0x85944171f73967e8ull);
    /* folding in pieces is folding the whole */
    ck_assert_uint_eq(hash_bytes(hash_bytes(HASH_SEED, "foo", 3), "bar", 3), hash_bytes(HASH_SEED, "foobar", 6));
    ck_assert_uint_eq(hash_str("foobar"), hash_mix(hash_bytes(HASH_SEED, "foobar", 6)));
}
END_TEST

START_TEST(mix_spreads_neighbouring_inputs)
{
    /* consecutive inputs land far apart: on average half of the 64 bits differ */
    long bits = 0;
    for (uint64_t x = 0; x < 1000; x++)
        bits += __builtin_popcountll(hash_mix(x) ^ hash_mix(x + 1));
    ck_assert_int_gt(bits / 1000, 24);
    ck_assert_int_lt(bits / 1000, 40);
    ck_assert_uint_ne(hash_str("k1"), hash_str("k2"));
}
END_TEST

START_TEST(hex_round_trips_and_refuses_anything_else)
{
    struct rng r;
    rng_seed(&r, 5);
    for (int i = 0; i < 1000; i++) {
        uint64_t h = rng_next(&r), back = 0;
        char buf[17];
        hash_hex(h, buf);
        ck_assert_uint_eq(strlen(buf), 16);
        ck_assert_int_eq(hash_parse_hex(buf, &back), 0);
        ck_assert_uint_eq(back, h);
    }
    uint64_t out = 42;
    const char *bad[] = {"", "123", "0123456789abcdef0", "0123456789abcdeg", "-123456789abcdef",
                         " 123456789abcdef", "+123456789abcdef"};
    for (size_t i = 0; i < CL_ARRAY_LEN(bad); i++)
        ck_assert_int_eq(hash_parse_hex(bad[i], &out), CL_EINVAL);
    ck_assert_int_eq(hash_parse_hex(NULL, &out), CL_EINVAL);
    ck_assert_uint_eq(out, 42); /* untouched */
    ck_assert_int_eq(hash_parse_hex("00000000000000FF", &out), 0);
    ck_assert_uint_eq(out, 255);
}
END_TEST

Suite *suite_kit_hash(void);
Suite *suite_kit_hash(void)
{
    Suite *s = suite_create("kit_hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, fnv1a_matches_the_published_vectors);
    tcase_add_test(tc, mix_spreads_neighbouring_inputs);
    tcase_add_test(tc, hex_round_trips_and_refuses_anything_else);
    suite_add_tcase(s, tc);
    return s;
}
