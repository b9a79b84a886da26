# Sourced by the start-*.sh scripts: `running PIDFILE` is true if the pid in PIDFILE is alive.
running() {
  # A killed daemon can linger as a zombie where nothing reaps orphans; that is not running.
  local pid stat
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # The state is the first field after the command name in parentheses.
  stat=${stat##*) }
  [[ "$stat" != Z* && "$stat" != X* ]]
}
