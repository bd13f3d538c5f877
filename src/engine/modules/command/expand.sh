# shellcheck shell=sh
# pyexpand WORD...: each word as Python's os.path.expanduser(os.path.expandvars(WORD)) makes it on this
# host (what Ansible does to command's arguments, chdir, creates and removes), printed as quoted sh
# words for `eval "set -- $(pyexpand ...)"`. $NAME and ${NAME} that are set are replaced, others kept;
# a leading ~ or ~USER (a plain user name) becomes that home.
pyexpand() {
  awk 'function vars(s,  out, name) {
    out = ""
    while (match(s, /\$([A-Za-z0-9_]+|[{][^}]*[}])/)) {
      name = substr(s, RSTART + 1, RLENGTH - 1)
      if (name ~ /^[{]/) name = substr(name, 2, length(name) - 2)
      out = out substr(s, 1, RSTART - 1) ((name in ENVIRON) ? ENVIRON[name] : substr(s, RSTART, RLENGTH))
      s = substr(s, RSTART + RLENGTH)
    }
    return out s
  }
  function home(s,  i, user, line, f, h, cmd) {
    if (substr(s, 1, 1) != "~") return s
    i = index(s, "/"); if (i == 0) i = length(s) + 1
    user = substr(s, 2, i - 2)
    if (user == "" && ("HOME" in ENVIRON)) h = ENVIRON["HOME"]
    else {
      if (user == "") { "id -un" | getline user; close("id -un") }
      if (user !~ /^[A-Za-z0-9._][A-Za-z0-9._-]*$/) return s
      cmd = "getent passwd " user
      if ((cmd | getline line) <= 0) return s
      close(cmd); split(line, f, ":"); h = f[6]
    }
    sub(/\/+$/, "", h); h = h substr(s, i)
    return h == "" ? "/" : h
  }
  BEGIN {
    for (i = 1; i < ARGC; i++) { w = home(vars(ARGV[i])); gsub(/\047/, "\047\\\047\047", w); printf "\047%s\047 ", w }
  }' "$@"
}
