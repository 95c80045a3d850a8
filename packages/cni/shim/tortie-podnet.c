/*
 * tortie-podnet: the pod side of many pods in one process, no fork, no exec.
 *
 * The node daemon runs this once per burst instead of one `nsenter … ip -batch` per pod. For each
 * pod it enters the pod's network namespace (an fd it inherited), opens a route netlink socket
 * there and sends the few requests ADD or DEL need. Commands on stdin, one per line:
 *
 *   P <fd>                          start a pod: setns(fd, CLONE_NEWNET)
 *   L <dev>                         link set <dev> up
 *   D <dev>                         link del <dev>
 *   A <dev> <addr> <plen> [nodad]   addr add <addr>/<plen> dev <dev> (IPv4 or IPv6)
 *   N <dev> <ip> <mac>              neigh replace <ip> lladdr <mac> dev <dev> nud permanent
 *   R <dev> <gw> [onlink]           route replace default via <gw> dev <dev> [onlink]
 *   H <dev> <dst> <plen> <proto> [link]
 *                                   route replace <dst>/<plen> dev <dev> proto <proto> [scope link]
 *                                   (the host route to a pod: the "pod" is then the host's namespace)
 *   E                               end of the pod: prints "<n> 0" or "<n> <errno> <what>: <why>"
 *
 * Pods are numbered from 0 in the order of their P lines. After a failure the rest of that pod's
 * commands are skipped (as `ip -batch` stops), the next pod starts clean. libc only, static.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct req {
  union {
    struct nlmsghdr n;
    char raw[1024];
  };
};

static int nl = -1;
static unsigned seq = 1;

static void attr(struct req *r, unsigned short type, const void *data, unsigned len) {
  struct rtattr *a = (struct rtattr *)(r->raw + NLMSG_ALIGN(r->n.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Sends the request and waits for its ack: 0, or a positive errno. */
static int talk(struct req *r) {
  r->n.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  r->n.nlmsg_seq = ++seq;
  if (send(nl, r, r->n.nlmsg_len, 0) < 0) return errno;
  char buf[8192];
  for (;;) {
    ssize_t got = recv(nl, buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_seq != r->n.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
  }
}

static void start(struct req *r, unsigned short type, unsigned short flags, unsigned hdr) {
  memset(r, 0, sizeof *r);
  r->n.nlmsg_len = NLMSG_LENGTH(hdr);
  r->n.nlmsg_type = type;
  r->n.nlmsg_flags = flags;
}

/* The interface's index in the current namespace (SIOCGIFINDEX on the netlink socket, which is there). */
static int ifindex(const char *dev) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (strlen(dev) >= IFNAMSIZ) return -1;
  strcpy(ifr.ifr_name, dev);
  if (ioctl(nl, SIOCGIFINDEX, &ifr) != 0) return -1;
  return ifr.ifr_ifindex;
}

/* Parses an address; returns its family (AF_INET/AF_INET6) or 0. */
static int parse_ip(const char *s, unsigned char out[16]) {
  if (inet_pton(AF_INET, s, out) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s, out) == 1) return AF_INET6;
  return 0;
}

static int link_op(const char *dev, int del) {
  int idx = ifindex(dev);
  if (idx < 0) return ENODEV;
  struct req r;
  start(&r, del ? RTM_DELLINK : RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *i = NLMSG_DATA(&r.n);
  i->ifi_family = AF_UNSPEC;
  i->ifi_index = idx;
  if (!del) {
    i->ifi_flags = IFF_UP;
    i->ifi_change = IFF_UP;
  }
  return talk(&r);
}

static int addr_add(const char *dev, const char *addr, const char *plen, int nodad) {
  int idx = ifindex(dev);
  if (idx < 0) return ENODEV;
  unsigned char a[16];
  int fam = parse_ip(addr, a);
  if (fam == 0) return EINVAL;
  struct req r;
  start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *m = NLMSG_DATA(&r.n);
  m->ifa_family = fam;
  m->ifa_prefixlen = (unsigned char)atoi(plen);
  m->ifa_flags = nodad ? IFA_F_NODAD : 0;
  m->ifa_scope = RT_SCOPE_UNIVERSE;
  m->ifa_index = idx;
  unsigned len = fam == AF_INET ? 4 : 16;
  attr(&r, IFA_LOCAL, a, len);
  attr(&r, IFA_ADDRESS, a, len);
  return talk(&r);
}

static int neigh_replace(const char *dev, const char *ip, const char *mac) {
  int idx = ifindex(dev);
  if (idx < 0) return ENODEV;
  unsigned char a[16], ll[6];
  int fam = parse_ip(ip, a);
  if (fam == 0) return EINVAL;
  if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &ll[0], &ll[1], &ll[2], &ll[3], &ll[4], &ll[5]) != 6) return EINVAL;
  struct req r;
  start(&r, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ndmsg));
  struct ndmsg *m = NLMSG_DATA(&r.n);
  m->ndm_family = fam;
  m->ndm_ifindex = idx;
  m->ndm_state = NUD_PERMANENT;
  attr(&r, NDA_DST, a, fam == AF_INET ? 4 : 16);
  attr(&r, NDA_LLADDR, ll, 6);
  return talk(&r);
}

static int default_route(const char *dev, const char *gw, int onlink) {
  int idx = ifindex(dev);
  if (idx < 0) return ENODEV;
  unsigned char a[16];
  int fam = parse_ip(gw, a);
  if (fam == 0) return EINVAL;
  struct req r;
  start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct rtmsg));
  struct rtmsg *m = NLMSG_DATA(&r.n);
  m->rtm_family = fam;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = RT_SCOPE_UNIVERSE;
  m->rtm_type = RTN_UNICAST;
  m->rtm_flags = onlink ? RTNH_F_ONLINK : 0;
  attr(&r, RTA_GATEWAY, a, fam == AF_INET ? 4 : 16);
  unsigned oif = (unsigned)idx;
  attr(&r, RTA_OIF, &oif, sizeof oif);
  return talk(&r);
}

static int dev_route(const char *dev, const char *dst, const char *plen, const char *proto, int link) {
  int idx = ifindex(dev);
  if (idx < 0) return ENODEV;
  unsigned char a[16];
  int fam = parse_ip(dst, a);
  if (fam == 0) return EINVAL;
  struct req r;
  start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct rtmsg));
  struct rtmsg *m = NLMSG_DATA(&r.n);
  m->rtm_family = fam;
  m->rtm_dst_len = (unsigned char)atoi(plen);
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = (unsigned char)atoi(proto);
  m->rtm_scope = link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  m->rtm_type = RTN_UNICAST;
  attr(&r, RTA_DST, a, fam == AF_INET ? 4 : 16);
  unsigned oif = (unsigned)idx;
  attr(&r, RTA_OIF, &oif, sizeof oif);
  return talk(&r);
}

int main(void) {
  char line[512], failed[512] = "";
  int pod = -1, err = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = 0;
    char *w[6] = {0};
    int n = 0;
    for (char *t = strtok(line, " "); t != NULL && n < 6; t = strtok(NULL, " ")) w[n++] = t;
    if (n == 0) continue;
    char op = w[0][0];
    if (op == 'P') {
      pod++;
      err = 0;
      failed[0] = 0;
      if (nl >= 0) close(nl);
      nl = -1;
      int fd = n > 1 ? atoi(w[1]) : -1;
      if (setns(fd, CLONE_NEWNET) != 0) {
        err = errno;
        snprintf(failed, sizeof failed, "entering the network namespace (fd %d)", fd);
        continue;
      }
      nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
      if (nl < 0) {
        err = errno;
        snprintf(failed, sizeof failed, "opening a netlink socket");
      }
      continue;
    }
    if (op == 'E') {
      if (err == 0) printf("%d 0\n", pod);
      else printf("%d %d %s: %s\n", pod, err, failed, strerror(err));
      continue;
    }
    if (err != 0 || pod < 0) continue;
    const char *dev = n > 1 ? w[1] : "";
    switch (op) {
      case 'L': err = link_op(dev, 0); break;
      case 'D': err = link_op(dev, 1); break;
      case 'A': err = n < 4 ? EINVAL : addr_add(dev, w[2], w[3], n > 4 && strcmp(w[4], "nodad") == 0); break;
      case 'N': err = n < 4 ? EINVAL : neigh_replace(dev, w[2], w[3]); break;
      case 'R': err = n < 3 ? EINVAL : default_route(dev, w[2], n > 3 && strcmp(w[3], "onlink") == 0); break;
      case 'H': err = n < 5 ? EINVAL : dev_route(dev, w[2], w[3], w[4], n > 5 && strcmp(w[5], "link") == 0); break;
      default: err = EINVAL;
    }
    if (err != 0) {
      // the failing command, as given (strtok cut it into words)
      size_t at = 0;
      for (int k = 0; k < n && at < sizeof failed; k++)
        at += (size_t)snprintf(failed + at, sizeof failed - at, k == 0 ? "%s" : " %s", w[k]);
    }
  }
  return 0;
}
