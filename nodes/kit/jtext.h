/* jtext — a client's value (any JSON) as one C string, "its value text": the text a student
 * types at the REPL and reads in the history, and what the kit's stores keep when they keep
 * strings (vitem.h versions, causal's versions, the lab's history).
 *
 *   a string that does not read as JSON     itself:              hello   -> hello
 *   any other value                         its compact JSON,    42      -> 42
 *                                           object keys sorted   {"b":1,"a":[1]} -> {"a":[1],"b":1}
 *   a string that reads as JSON, or is      JTEXT_MARK and the   "42"    -> \x02"42"
 *   empty-looking to JSON, or begins with   string as JSON       "true"  -> \x02"true"
 *   the mark                                (quoted)
 *
 * So the number 42 and the string "42" have different texts (42 is not "42"), equal values
 * have equal texts (strings compare with strcmp), a plain word stays itself (a store holding
 * only words holds what it held before), and a number's text is its digits (a checker that
 * reads numbers with strtoll reads them). jtext_show() is the form a user reads: the text
 * without the mark, i.e. a string quoted exactly when it would otherwise read as another
 * value (42 is the number, "42" the string, hello the string hello).
 *
 * jtext_parse() reads what a student types (the REPL's values): the same rule from the other
 * side. Text that starts like JSON ('"', '{', '[') must be whole, valid JSON; text that reads as
 * a JSON number, true, false or null is that value; anything else is the string itself.
 *
 * Pure (no I/O); users: vitem (leaderless, multileader), causal, the lab's history and REPL.
 */
#ifndef CONLAB_JTEXT_H
#define CONLAB_JTEXT_H

#include <jansson.h>
#include <stddef.h>

#define JTEXT_MARK '\x02'

/* The value text of v (caller frees); NULL for NULL. */
char *jtext_encode(const json_t *v);
/* The value a text stands for (a new reference); NULL for NULL. A marked text that does not
 * decode is the string after the mark; bytes that are not UTF-8 (never a JSON string's) are
 * null. */
json_t *jtext_decode(const char *text);
/* 1 when a text stands for a JSON string (marked or plain), 0 for any other value. */
int jtext_is_string(const char *text);
/* The string a text stands for when it is a string (borrowed for a plain one; a marked one is
 * copied into buf, truncated to len); NULL for any other value. */
const char *jtext_string(const char *text, char *buf, size_t len);
/* The form a user reads (see above): borrowed from text, never NULL ("" for NULL). */
const char *jtext_show(const char *text);
/* Reads a typed value s (its whole length n). Returns a new reference, or NULL with err filled
 * ("unterminated string starting at column 1", "bad JSON at column 5: ..."). */
json_t *jtext_parse(const char *s, size_t n, char *err, size_t errlen);

#endif
