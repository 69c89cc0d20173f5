/* progress — see progress.h. The record is kept as a jansson tree in memory and validated
 * field by field on load: any shape we did not write counts as corruption. */
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PROGRESS_MAX_BYTES (4u * 1024u * 1024u)

struct progress {
    char *path;     /* NULL: memory only */
    json_t *root;
};

int progress_path(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && xdg[0] == '/') {
        snprintf(buf, n, "%s/conlab/progress.json", xdg);
        return 0;
    }
    const char *home = getenv("HOME");
    if (home && home[0] == '/') {
        snprintf(buf, n, "%s/.local/share/conlab/progress.json", home);
        return 0;
    }
    return CL_ENOENT;
}

static json_t *fresh(void)
{
    return json_pack("{s:i, s:{}, s:{s:i, s:{}}}", "version", 1, "lessons", "quiz", "sessions",
                     0, "cards");
}

/* Checks the shape; returns NULL when fine or a reason. */
static const char *validate(json_t *root)
{
    if (!json_is_object(root))
        return "not a JSON object";
    json_t *v = json_object_get(root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return "missing or unknown \"version\"";
    json_t *lessons = json_object_get(root, "lessons");
    json_t *quiz = json_object_get(root, "quiz");
    if (!json_is_object(lessons) || !json_is_object(quiz))
        return "\"lessons\" and \"quiz\" must be objects";
    const char *k;
    json_t *l;
    json_object_foreach(lessons, k, l) {
        if (!json_is_object(l))
            return "a lesson entry is not an object";
        json_t *step = json_object_get(l, "step"), *steps = json_object_get(l, "steps"),
               *hints = json_object_get(l, "hints"), *done = json_object_get(l, "done"),
               *answers = json_object_get(l, "answers");
        if ((step && (!json_is_integer(step) || json_integer_value(step) < 0 ||
                      json_integer_value(step) > 1000)) ||
            (steps && !json_is_object(steps)) || (hints && !json_is_object(hints)) ||
            (done && !json_is_boolean(done)) || (answers && !json_is_object(answers)))
            return "a lesson entry has fields of the wrong type";
        const char *sk;
        json_t *sv;
        json_object_foreach(steps, sk, sv) if (!json_is_string(sv)) return "a step status is not a string";
        json_object_foreach(hints, sk, sv) if (!json_is_integer(sv)) return "a hint count is not a number";
        json_object_foreach(answers, sk, sv) if (!json_is_boolean(sv)) return "a quiz answer is not true or false";
    }
    json_t *sessions = json_object_get(quiz, "sessions"), *cards = json_object_get(quiz, "cards");
    if (!json_is_integer(sessions) || json_integer_value(sessions) < 0 || !json_is_object(cards))
        return "\"quiz\" has fields of the wrong type";
    json_object_foreach(cards, k, l) {
        json_t *box = json_object_get(l, "box");
        if (!json_is_object(l) || !json_is_integer(box) || json_integer_value(box) < 0 ||
            json_integer_value(box) > 5)
            return "a quiz card is malformed";
        const char *f[] = {"last", "seen", "right"};
        for (size_t i = 0; i < 3; i++) {
            json_t *x = json_object_get(l, f[i]);
            if (x && (!json_is_integer(x) || json_integer_value(x) < 0))
                return "a quiz card is malformed";
        }
    }
    return NULL;
}

struct progress *progress_load_path(const char *path, char *notice, size_t n)
{
    if (notice && n)
        notice[0] = 0;
    struct progress *p = xcalloc(1, sizeof *p);
    p->path = path ? xstrdup(path) : NULL;
    if (!path) {
        p->root = fresh();
        return p;
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT && notice)
            snprintf(notice, n, "cannot read progress file %s (%s); progress will not be kept",
                     path, strerror(errno));
        if (errno != ENOENT) {
            free(p->path);
            p->path = NULL;
        }
        p->root = fresh();
        return p;
    }
    json_error_t je;
    const char *why = NULL;
    char whybuf[200];
    json_t *root = NULL;
    if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else if ((uint64_t)st.st_size > PROGRESS_MAX_BYTES) {
        why = "larger than 4 MiB";
    } else {
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
            snprintf(whybuf, sizeof whybuf, "line %d: %s", je.line, je.text);
            why = whybuf;
        } else {
            why = validate(root);
        }
    }
    if (!why) {
        p->root = root;
        return p;
    }
    json_decref(root);
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.corrupt-%lld", path, (long long)time(NULL));
    if (rename(path, aside) == 0) {
        if (notice)
            snprintf(notice, n, "progress file %s was unreadable (%s); kept it as %s and started "
                     "a fresh one", path, why, aside);
    } else {
        if (notice)
            snprintf(notice, n, "progress file %s was unreadable (%s) and could not be moved "
                     "aside (%s); progress will not be kept this time", path, why,
                     strerror(errno));
        free(p->path);
        p->path = NULL;
    }
    p->root = fresh();
    return p;
}

struct progress *progress_load(char *notice, size_t n)
{
    char path[4096];
    if (progress_path(path, sizeof path) < 0) {
        if (notice)
            snprintf(notice, n, "neither XDG_DATA_HOME nor HOME is set; progress will not be kept");
        return progress_load_path(NULL, NULL, 0);
    }
    return progress_load_path(path, notice, n);
}

void progress_free(struct progress **p)
{
    if (!p || !*p)
        return;
    json_decref((*p)->root);
    free((*p)->path);
    free(*p);
    *p = NULL;
}

/* mkdir -p of the directory part of path, mode 0700. */
static int make_parent(const char *path)
{
    char buf[4096];
    str_copy(buf, path, sizeof buf);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = 0;
    for (char *q = buf + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = 0;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *q = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int progress_save(struct progress *p, char *err, size_t errlen)
{
    if (!p->path)
        return 0;
    if (make_parent(p->path) < 0) {
        snprintf(err, errlen, "cannot create the directory of %s: %s", p->path, strerror(errno));
        return CL_EIO;
    }
    char *text = json_dumps(p->root, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errlen, "cannot encode progress");
        return CL_EIO;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", p->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        free(text);
        return CL_EIO;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            rc = CL_EIO;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0)) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = CL_EIO;
    }
    close(fd);
    free(text);
    if (rc == 0 && rename(tmp, p->path) < 0) {
        snprintf(err, errlen, "cannot replace %s: %s", p->path, strerror(errno));
        rc = CL_EIO;
    }
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    char dir[4096];
    str_copy(dir, p->path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return 0;
}

/* ---- lessons ------------------------------------------------------------------------ */

static json_t *lesson_obj(const struct progress *p, const char *lesson, bool create)
{
    json_t *lessons = json_object_get(p->root, "lessons");
    json_t *l = json_object_get(lessons, lesson);
    if (!l && create) {
        l = json_object();
        json_object_set_new(lessons, lesson, l);
    }
    return l;
}

static json_t *sub_obj(json_t *parent, const char *key, bool create)
{
    json_t *o = json_object_get(parent, key);
    if (!o && create && parent) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

static void touch(json_t *l)
{
    json_object_set_new(l, "updated", json_integer((json_int_t)time(NULL)));
}

int progress_lesson_step(const struct progress *p, const char *lesson)
{
    return (int)json_integer_value(json_object_get(lesson_obj(p, lesson, false), "step"));
}

void progress_lesson_set_step(struct progress *p, const char *lesson, int step)
{
    json_t *l = lesson_obj(p, lesson, true);
    json_object_set_new(l, "step", json_integer(step));
    touch(l);
}

bool progress_lesson_done(const struct progress *p, const char *lesson)
{
    return json_is_true(json_object_get(lesson_obj(p, lesson, false), "done"));
}

void progress_lesson_set_done(struct progress *p, const char *lesson, bool done)
{
    json_t *l = lesson_obj(p, lesson, true);
    json_object_set_new(l, "done", json_boolean(done));
    touch(l);
}

const char *progress_step_status(const struct progress *p, const char *lesson, const char *step)
{
    json_t *steps = json_object_get(lesson_obj(p, lesson, false), "steps");
    return json_string_value(json_object_get(steps, step));
}

void progress_step_set_status(struct progress *p, const char *lesson, const char *step,
                              const char *status)
{
    json_t *l = lesson_obj(p, lesson, true);
    json_t *steps = sub_obj(l, "steps", true);
    if (status)
        json_object_set_new(steps, step, json_string(status));
    else
        json_object_del(steps, step);
    touch(l);
}

int progress_step_hints(const struct progress *p, const char *lesson, const char *step)
{
    json_t *hints = json_object_get(lesson_obj(p, lesson, false), "hints");
    return (int)json_integer_value(json_object_get(hints, step));
}

void progress_step_set_hints(struct progress *p, const char *lesson, const char *step, int n)
{
    json_t *l = lesson_obj(p, lesson, true);
    json_object_set_new(sub_obj(l, "hints", true), step, json_integer(n));
    touch(l);
}

int progress_lesson_answer(const struct progress *p, const char *lesson, const char *qid)
{
    json_t *a = json_object_get(json_object_get(lesson_obj(p, lesson, false), "answers"), qid);
    return a ? json_is_true(a) : -1;
}

void progress_lesson_set_answer(struct progress *p, const char *lesson, const char *qid,
                                bool right)
{
    json_t *l = lesson_obj(p, lesson, true);
    json_object_set_new(sub_obj(l, "answers", true), qid, json_boolean(right));
    touch(l);
}

void progress_lesson_reset(struct progress *p, const char *lesson)
{
    json_object_del(json_object_get(p->root, "lessons"), lesson);
}

/* ---- quiz --------------------------------------------------------------------------- */

void progress_card_get(const struct progress *p, const char *qid, struct progress_card *c)
{
    json_t *cards = json_object_get(json_object_get(p->root, "quiz"), "cards");
    json_t *o = json_object_get(cards, qid);
    c->box = (int)json_integer_value(json_object_get(o, "box"));
    c->last = (int)json_integer_value(json_object_get(o, "last"));
    c->seen = (int)json_integer_value(json_object_get(o, "seen"));
    c->right = (int)json_integer_value(json_object_get(o, "right"));
}

void progress_card_set(struct progress *p, const char *qid, const struct progress_card *c)
{
    json_t *cards = json_object_get(json_object_get(p->root, "quiz"), "cards");
    json_object_set_new(cards, qid, json_pack("{s:i, s:i, s:i, s:i}", "box", c->box, "last",
                                              c->last, "seen", c->seen, "right", c->right));
}

int progress_quiz_begin_session(struct progress *p)
{
    json_t *quiz = json_object_get(p->root, "quiz");
    int s = (int)json_integer_value(json_object_get(quiz, "sessions")) + 1;
    json_object_set_new(quiz, "sessions", json_integer(s));
    return s;
}

int progress_quiz_sessions(const struct progress *p)
{
    return (int)json_integer_value(json_object_get(json_object_get(p->root, "quiz"), "sessions"));
}
