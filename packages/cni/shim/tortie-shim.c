/*
 * tortie-shim: the CNI plugin binary the runtime runs (/opt/cni/bin/tortie), once per pod.
 *
 * It does no CNI work itself. It reads the network configuration on stdin, sends it with the
 * CNI_* environment to the node daemon (`tortie-cni daemon`) on the unix socket the config names
 * (`agent_socket`, default /var/run/tortie/cni.sock), prints the daemon's stdout and exits with
 * its exit code. The daemon runs the whole ADD/DEL/CHECK/... in its warm process, so a pod costs
 * a ~1 ms exec instead of a ~50 ms Node start.
 *
 * When the socket is missing or refuses the connection (no daemon on this node), or the daemon
 * says it cannot serve this caller (another network namespace), nothing has happened yet: it
 * execs the Node plugin installed beside it (`tortie-node`) with the same environment and stdin.
 * When the daemon took the request but closed without an answer, the outcome is unknown: that is
 * CNI error 11 (try again later), never a second attempt behind the runtime's back.
 *
 * Request:  "CNI1 <netns dev> <netns ino> <env bytes> <stdin bytes>\n" env ("K=V\0"...) stdin
 * Answer:   "<exit code>\n" stdout    or    "FALLBACK <reason>\n"
 *
 * Build: cc -O2 -Wall -Werror -static -o tortie tortie-shim.c (libc only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/var/run/tortie/cni.sock"
#define NODE_PLUGIN "tortie-node"

extern char **environ;

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n) {
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if (!(b->p = realloc(b->p, b->cap))) _exit(70);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}

static int slurp(int fd, struct buf *b) {
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n == 0) return 0;
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) return -1;
		put(b, chunk, (size_t)n);
	}
}

static struct buf in;
static char version[32] = "1.0.0";

/* The string value of the first "key" in the JSON text (escapes other than \" \\ \/ refused). */
static int json_string(const char *key, char *out, size_t size) {
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = in.p ? strstr(in.p, pat) : NULL;
	if (!p) return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
	if (*p++ != ':') return -1;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
	if (*p++ != '"') return -1;
	size_t n = 0;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '/')) p++;
		else if (*p == '\\') return -1;
		if (n + 1 >= size) return -1;
		out[n++] = *p;
	}
	if (*p != '"') return -1;
	out[n] = 0;
	return 0;
}

/* A CNI error object on stdout, exit 1 (the message is ours: only '"' and '\' need escaping). */
static void fail(int code, const char *what, const char *detail) {
	printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"", version, code);
	for (const char *s = what; *s; s++) printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	printf(": ");
	for (const char *s = detail; *s; s++) printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	printf("\"}\n");
	exit(1);
}

/* Runs the Node plugin beside this binary with our environment and the stdin we already read. */
static void fallback(const char *why) {
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof NODE_PLUGIN - 1);
	if (n < 0) fail(11, "tortie: cannot find its own path to run " NODE_PLUGIN, strerror(errno));
	path[n] = 0;
	char *slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, NODE_PLUGIN);
	int fd = memfd_create("tortie-cni-stdin", 0);
	if (fd < 0 || write(fd, in.p ? in.p : "", in.len) != (ssize_t)in.len || lseek(fd, 0, SEEK_SET) != 0 ||
	    dup2(fd, 0) < 0)
		fail(11, "tortie: cannot pass stdin on to " NODE_PLUGIN, strerror(errno));
	if (getenv("TORTIE_SHIM_DEBUG")) fprintf(stderr, "tortie: node daemon not used (%s), running %s\n", why, path);
	char *argv[] = {path, NULL};
	execv(path, argv);
	char msg[4200];
	snprintf(msg, sizeof msg, "the node daemon is unavailable (%s) and %s cannot be run", why, path);
	fail(11, msg, strerror(errno));
}

int main(void) {
	if (slurp(0, &in) < 0) fail(5, "tortie: reading the network configuration from stdin", strerror(errno));
	json_string("cniVersion", version, sizeof version);
	char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (json_string("agent_socket", sockpath, sizeof sockpath) < 0) strcpy(sockpath, DEFAULT_SOCKET);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, sockpath);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		char why[256];
		snprintf(why, sizeof why, "%s: %s", sockpath, strerror(errno));
		fallback(why);
	}

	struct buf req = {0}, env = {0}, out = {0};
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CNI_", 4) == 0) put(&env, *e, strlen(*e) + 1);
	struct stat ns = {0};
	stat("/proc/self/ns/net", &ns);
	char head[128];
	int hl = snprintf(head, sizeof head, "CNI1 %llu %llu %zu %zu\n", (unsigned long long)ns.st_dev,
			  (unsigned long long)ns.st_ino, env.len, in.len);
	put(&req, head, (size_t)hl);
	if (env.len) put(&req, env.p, env.len);
	if (in.len) put(&req, in.p, in.len);
	/* a daemon that closes early is seen below as no answer (MSG_NOSIGNAL: no SIGPIPE) */
	for (size_t off = 0; off < req.len;) {
		ssize_t n = send(fd, req.p + off, req.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	if (slurp(fd, &out) < 0 || out.len == 0 || !memchr(out.p, '\n', out.len))
		fail(11, "tortie: the node daemon took the request but gave no answer (it may have restarted); try again",
		     sockpath);
	char *nl = memchr(out.p, '\n', out.len);
	*nl = 0;
	if (strncmp(out.p, "FALLBACK", 8) == 0) fallback(out.p + (out.len > 9 ? 9 : 8));
	char *end;
	long code = strtol(out.p, &end, 10);
	if (end == out.p || *end) fail(11, "tortie: the node daemon answered garbage", out.p);
	size_t body = out.len - (size_t)(nl + 1 - out.p);
	if (body && fwrite(nl + 1, 1, body, stdout) != body) return 1;
	return fflush(stdout) == 0 ? (int)code : 1;
}
