# tests/system/dovecot.sh - a throw-away Dovecot on 127.0.0.1 for tests.
#
# Source it from bash, then:
#   dovecot_start DIR         config, certificate, mail tree and users in DIR;
#                             exports DOVECOT_PORT (plain, STARTTLS offered),
#                             DOVECOT_TLS_PORT (implicit TLS), DOVECOT_CERT
#                             (the server's PEM certificate, its own CA) and
#                             DOVECOT_PGID; also writes them to DIR/dovecot.env
#                             (with DOVECOT_PORTS="PORT TLS_PORT" set, on
#                             those ports: a restart clients can find again)
#   dovecot_stop DIR          TERM to the whole process group, KILL after 10 s
#   dovecot_deliver DIR USER FILE   drop FILE into USER's Maildir/new
#   dovecot_count DIR USER FOLDER   messages in FOLDER (new + cur)
#   dovecot_maildir DIR USER FOLDER the maildir of FOLDER (flags in cur/)
#   smtpd_start DIR LOG PORT [ARG...]  tests/system/smtpd.py beside it, on
#                             127.0.0.1:PORT (0: any free port), its files in
#                             DIR (smtpd.pid to stop it by), output appended
#                             to LOG, ARGs passed on; waits up to 10 s for it
#                             and sets smtp_port; 1 when it did not start
#
# A DIR/cert.pem with its DIR/key.pem made beforehand is used instead of a
# new one (to play a server with a wrong certificate).
#
# Source it from a non-interactive bash (with job control, setsid(1) forks
# and the first pid is not Dovecot's).
#
# Users trialsupport and implementation, password "secret".  Lines in
# $DOVECOT_EXTRA_CONF are appended to the config (e.g. "imap_capability =
# IMAP4rev1 UIDPLUS" to play an older server).
#
# Dovecot runs auth as "dovecot" and mail as "nobody", so DIR and every
# directory above it must be world-traversable: dovecot_start makes DIR
# itself 0755 (a `mktemp -d` directory is 0700) and refuses, naming it,
# any ancestor that is not.  Needs root (Dovecot refuses uid 0 for mail,
# so the mail tree is owned by nobody).

DOVECOT_USERS="trialsupport implementation"

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
dovecot_free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "dovecot_free_port: no free port found" >&2
	return 1
}

dovecot_conf() {
	local dir=$1 port=$2 tls_port=$3
	cat <<EOF
base_dir = $dir/run
state_dir = $dir/state
instance_name = mailproc-test-$(basename "$dir")
listen = 127.0.0.1
protocols = imap
log_path = $dir/dovecot.log
stats_writer_socket_path =
auth_failure_delay = 0
disable_plaintext_auth = no
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%n
}
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tls_port
    ssl = yes
  }
}
${DOVECOT_EXTRA_CONF:-}
EOF
}

# 0 when 127.0.0.1:$1 accepts a connection.
dovecot_listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

dovecot_start() {
	local dir=$1 d u port tls_port pgid
	if [ -z "$dir" ] || [ "${dir#/}" = "$dir" ]; then
		echo "dovecot_start: need an absolute directory" >&2
		return 1
	fi
	mkdir -p "$dir" && chmod 0755 "$dir" || return 1
	if [ ! -x /usr/sbin/dovecot ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y dovecot-imapd >"$dir/apt.log" 2>&1 ||
		{ apt-get update >>"$dir/apt.log" 2>&1 &&
		  apt-get install -y dovecot-imapd >>"$dir/apt.log" 2>&1; } || {
			echo "dovecot_start: cannot install dovecot-imapd" \
				"(see $dir/apt.log)" >&2
			return 1
		}
	fi
	d=$(dirname "$dir")
	while [ "$d" != / ]; do
		if [ -n "$(find "$d" -maxdepth 0 ! -perm -o+x)" ]; then
			echo "dovecot_start: $d is not world-traversable;" \
				"Dovecot's auth and mail processes cannot reach $dir" >&2
			return 1
		fi
		d=$(dirname "$d")
	done
	rm -rf "$dir/run"
	mkdir -p "$dir/state" "$dir/mail" || return 1
	: >"$dir/passwd"
	for u in $DOVECOT_USERS; do
		echo "$u:secret" >>"$dir/passwd"
		mkdir -p "$dir/mail/$u/Maildir/new" "$dir/mail/$u/Maildir/cur" \
			"$dir/mail/$u/Maildir/tmp"
	done
	chmod 0644 "$dir/passwd"
	chown -R nobody:nogroup "$dir/mail" || return 1
	if [ ! -s "$dir/cert.pem" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-nodes -days 2 -subj /CN=localhost \
			-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
			-keyout "$dir/key.pem" -out "$dir/cert.pem" \
			>"$dir/openssl.log" 2>&1 || {
			echo "dovecot_start: openssl failed (see $dir/openssl.log)" >&2
			return 1
		}
	fi

	# A port found free can be taken before Dovecot binds it: retry.
	for _ in 1 2 3 4 5; do
		if [ -n "${DOVECOT_PORTS:-}" ]; then
			set -- "$dir" $DOVECOT_PORTS
			port=$2 tls_port=$3
		else
			port=$(dovecot_free_port) &&
				tls_port=$(dovecot_free_port) || return 1
		fi
		[ "$port" = "$tls_port" ] && continue
		dovecot_conf "$dir" "$port" "$tls_port" >"$dir/dovecot.conf"
		rm -rf "$dir/run"
		: >"$dir/dovecot.log"
		setsid /usr/sbin/dovecot -F -c "$dir/dovecot.conf" \
			</dev/null >"$dir/dovecot.out" 2>&1 &
		pgid=$!
		echo "$pgid" >"$dir/dovecot.pgid"
		for _ in $(seq 1 100); do
			if dovecot_listening "$port" &&
				dovecot_listening "$tls_port"; then
				break
			fi
			kill -0 "$pgid" 2>/dev/null || break
			sleep 0.1
		done
		# setsid(1) made the master (master.pid) a group leader.
		[ -s "$dir/run/master.pid" ] && pgid=$(cat "$dir/run/master.pid")
		echo "$pgid" >"$dir/dovecot.pgid"
		if kill -0 "$pgid" 2>/dev/null && dovecot_listening "$port" &&
			dovecot_listening "$tls_port"; then
			export DOVECOT_PORT=$port DOVECOT_TLS_PORT=$tls_port
			export DOVECOT_CERT=$dir/cert.pem DOVECOT_PGID=$pgid
			cat >"$dir/dovecot.env" <<EOF
DOVECOT_PORT=$port
DOVECOT_TLS_PORT=$tls_port
DOVECOT_CERT=$dir/cert.pem
DOVECOT_PGID=$pgid
EOF
			return 0
		fi
		dovecot_stop "$dir"
		grep -q 'Address already in use' "$dir/dovecot.log" \
			"$dir/dovecot.out" 2>/dev/null || break
	done
	echo "dovecot_start: Dovecot did not come up; its log:" >&2
	cat "$dir/dovecot.out" "$dir/dovecot.log" >&2 2>/dev/null
	return 1
}

dovecot_stop() {
	local dir=$1 pgid
	[ -s "$dir/dovecot.pgid" ] || return 0
	pgid=$(cat "$dir/dovecot.pgid")
	case $pgid in '' | *[!0-9]* | 0 | 1) return 1 ;; esac
	kill -TERM -- "-$pgid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 -- "-$pgid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 -- "-$pgid" 2>/dev/null; then
		kill -KILL -- "-$pgid" 2>/dev/null
		sleep 0.1
	fi
	rm -f "$dir/dovecot.pgid"
	rm -rf "$dir/run"
	return 0
}

# Maildir of USER's FOLDER (Maildir++: INBOX is the root, others ".NAME").
dovecot_maildir() {
	if [ "$3" = INBOX ]; then
		echo "$1/mail/$2/Maildir"
	else
		echo "$1/mail/$2/Maildir/.$3"
	fi
}

dovecot_deliver() {
	local dir=$1 user=$2 file=$3 md name
	md=$(dovecot_maildir "$dir" "$user" INBOX)
	name="$(date +%s).M$(date +%N)P$$R$RANDOM.mailproc-test"
	cp "$file" "$md/tmp/$name" &&
		chown nobody:nogroup "$md/tmp/$name" &&
		mv "$md/tmp/$name" "$md/new/$name"
}

dovecot_count() {
	local md n=0 f
	md=$(dovecot_maildir "$1" "$2" "$3")
	for f in "$md"/new/* "$md"/cur/*; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

smtpd_start() {
	local dir=$1 log=$2 port=$3 here

	shift 3
	here=$(dirname "${BASH_SOURCE[0]}")
	mkdir -p "$dir"
	rm -f "$dir/ready"
	/usr/bin/python3 "$here/smtpd.py" --port "$port" --dir "$dir" "$@" \
		>>"$log" 2>&1 &
	for _ in $(seq 100); do [ -e "$dir/ready" ] && break; sleep 0.1; done
	[ -e "$dir/ready" ] || return 1
	smtp_port=$(cat "$dir/port")
}
