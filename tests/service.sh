# Shared by the scripts that run the service as a process (sourced, not run).

# Does something listen on 127.0.0.1:$1?
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until $1/health/ready answers while process $2 lives; on failure shows the end of log $3
# and exits, naming the check $4.
wait_ready() {
  for _ in $(seq 1 120); do
    curl -fsS "$1/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.25
  done
  tail -20 "$3"; echo "$4: the service did not start" >&2; exit 1
}

# The PostgreSQL server the service would use, as a URL without a database: $1 if given, else
# DATABASE_URL's server, else 127.0.0.1:5432, else the private cluster on 55432 (empty when that
# one is not running yet: start the service once to create it).
postgres_server() {
  if [ -n "${1:-}" ]; then
    echo "${1%/}"
  elif [ -n "${DATABASE_URL:-}" ]; then
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.scheme}://{p.netloc}")' "$DATABASE_URL"
  elif answers 5432; then
    echo postgres://postgres@127.0.0.1:5432
  elif answers 55432; then
    echo postgres://postgres@127.0.0.1:55432
  fi
}
