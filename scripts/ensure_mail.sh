#!/usr/bin/env bash
# The real mail path of the notifications tests: Postfix accepting SMTP on a loopback port and
# handing the test domain over LMTP to Dovecot, which files it in Maildirs and serves them over
# IMAP on another loopback port. Installs both from Debian's packages when missing (root,
# apt-get), configures them, starts them. Idempotent: exits at once when all answer with the
# current configuration.
#
#   COOP_TEST_MAIL_DOMAIN  (coop.test)   every address here has a mailbox, except local parts
#                                        starting with "unknown", which Postfix bounces
#   COOP_TEST_SMTP_PORT    (2525)        Postfix smtpd on 127.0.0.1
#   COOP_TEST_IMAP_PORT    (1143)        Dovecot IMAP on 127.0.0.1, plain login,
#                                        user = full address, password = COOP_TEST_IMAP_PASSWORD
#   COOP_TEST_LMTP_PORT    (2424)        Dovecot LMTP on 127.0.0.1 (Postfix delivers through it)
#
# Prints one line per server. Exit status 0 when both are up, 1 otherwise.
set -u
export DEBIAN_FRONTEND=noninteractive
DOMAIN=${COOP_TEST_MAIL_DOMAIN:-coop.test}
SMTP_PORT=${COOP_TEST_SMTP_PORT:-2525}
IMAP_PORT=${COOP_TEST_IMAP_PORT:-1143}
LMTP_PORT=${COOP_TEST_LMTP_PORT:-2424}
IMAP_PASSWORD=${COOP_TEST_IMAP_PASSWORD:-coop-test}
MAILDIRS=/var/mail/coop-test
DOVECOT_CONF=/etc/dovecot/coop-test.conf
TRANSPORT_MAP=/etc/postfix/coop-test-transport
STAMP=/var/lib/coop-test-mail.stamp
# The configuration's fingerprint: a change of this script or of a setting reconfigures.
WANT="$(sha256sum "$0" | cut -c1-16) $DOMAIN $SMTP_PORT $IMAP_PORT $LMTP_PORT $IMAP_PASSWORD"

port_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
all_up() { port_up "$SMTP_PORT" && port_up "$IMAP_PORT" && port_up "$LMTP_PORT"; }
report() {
    local status=0
    if port_up "$SMTP_PORT"; then
        echo "postfix: up (127.0.0.1:$SMTP_PORT, domain $DOMAIN)"
    else
        echo "postfix: DOWN (see /var/log/postfix-coop-test.log)"; status=1
    fi
    if port_up "$IMAP_PORT" && port_up "$LMTP_PORT"; then
        echo "dovecot: up (IMAP 127.0.0.1:$IMAP_PORT, LMTP 127.0.0.1:$LMTP_PORT)"
    else
        echo "dovecot: DOWN (see /var/log/dovecot-coop-test.log)"; status=1
    fi
    return $status
}

if all_up && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; then
    report
    exit $?
fi

if ! command -v postfix >/dev/null 2>&1 || ! command -v dovecot >/dev/null 2>&1 \
        || [ ! -x /usr/lib/dovecot/lmtp ]; then
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
        echo "postfix/dovecot: MISSING (needs root and apt-get: install postfix, dovecot-imapd, dovecot-lmtpd)"
        exit 1
    fi
    # Answer Postfix's configuration question up front: no dialog, no relaying anywhere (the
    # listener is reconfigured below anyway).
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string mail.$DOMAIN" | debconf-set-selections
    apt-get update -qq >/dev/null 2>&1 || true
    if ! apt-get install -y -qq --no-install-recommends postfix dovecot-imapd dovecot-lmtpd \
            >/tmp/ensure_mail.apt.log 2>&1; then
        echo "postfix/dovecot: MISSING (apt-get install failed, see /tmp/ensure_mail.apt.log)"
        exit 1
    fi
fi

# One system user owns every test mailbox.
getent group vmail >/dev/null || groupadd --system vmail
getent passwd vmail >/dev/null || useradd --system -g vmail -d "$MAILDIRS" -s /usr/sbin/nologin vmail
VUID=$(id -u vmail)
VGID=$(id -g vmail)
mkdir -p "$MAILDIRS"
chown vmail:vmail "$MAILDIRS"

# --- Dovecot: an instance of its own (own config, run and state dirs): IMAP and LMTP ---------
# Any user of the domain exists (static userdb); the +extension of a recipient is stripped, so
# every VERP return path bounces+<token>@$DOMAIN lands in the mailbox bounces@$DOMAIN.
cat >"$DOVECOT_CONF" <<EOF
# Written by scripts/ensure_mail.sh: the notifications tests' mailboxes.
protocols = imap lmtp
listen = 127.0.0.1
base_dir = /run/dovecot-coop-test
state_dir = /var/lib/dovecot-coop-test
log_path = /var/log/dovecot-coop-test.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$MAILDIRS/%d/%n
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
postmaster_address = postmaster@$DOMAIN
first_valid_uid = $VUID
mail_privileged_group = vmail
default_login_user = dovenull
default_internal_user = dovecot
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
passdb {
  driver = static
  args = password=$IMAP_PASSWORD
}
userdb {
  driver = static
  args = uid=$VUID gid=$VGID home=$MAILDIRS/%d/%n
}
EOF
mkdir -p /var/lib/dovecot-coop-test
if [ -f /run/dovecot-coop-test/master.pid ] && kill -0 "$(cat /run/dovecot-coop-test/master.pid)" 2>/dev/null; then
    # A listener change needs a restart, not a reload.
    doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1
    for _ in $(seq 1 50); do
        kill -0 "$(cat /run/dovecot-coop-test/master.pid 2>/dev/null)" 2>/dev/null || break
        sleep 0.1
    done
fi
dovecot -c "$DOVECOT_CONF" >/dev/null 2>&1

# --- Postfix: the machine's instance, listening only on 127.0.0.1:$SMTP_PORT -------------
# Local parts starting with "unknown" go to Postfix's error transport: accepted over SMTP
# (smtpd_reject_unlisted_recipient = no), then bounced with a real non-delivery report to the
# envelope sender, as a relay sends one.
DOMAIN_RE=${DOMAIN//./\\.}
printf '/^unknown[^@]*@%s$/ error:5.1.1 User unknown in the %s test domain\n' \
    "$DOMAIN_RE" "$DOMAIN" >"$TRANSPORT_MAP"
postconf -e \
    "compatibility_level = 3.6" \
    "inet_interfaces = loopback-only" \
    "inet_protocols = ipv4" \
    "myhostname = mail.$DOMAIN" \
    "mydomain = $DOMAIN" \
    "myorigin = \$myhostname" \
    "mydestination = localhost" \
    "mynetworks = 127.0.0.0/8" \
    "relayhost =" \
    "recipient_delimiter = +" \
    "virtual_mailbox_domains = $DOMAIN" \
    "virtual_mailbox_maps =" \
    "virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT" \
    "transport_maps = regexp:$TRANSPORT_MAP" \
    "smtpd_reject_unlisted_recipient = no" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
    "smtputf8_enable = no" \
    "default_process_limit = 20" \
    "maillog_file = /var/log/postfix-coop-test.log"
# Replace every inet listener (port 25 first) by the loopback test port; no chroot (nothing is
# copied into /var/spool/postfix when Postfix is started without its init script).
for svc in $(postconf -M | awk '$2 == "inet" {print $1}'); do
    [ "$svc" = "127.0.0.1:$SMTP_PORT" ] || postconf -MX "$svc/inet"
done
postconf -M "127.0.0.1:$SMTP_PORT/inet=127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
postconf -F '*/*/chroot = n'
newaliases >/dev/null 2>&1 || true
if postfix status >/dev/null 2>&1; then
    postfix reload >/dev/null 2>&1
else
    postfix start >/dev/null 2>&1
fi

for _ in $(seq 1 50); do
    all_up && break
    sleep 0.2
done
if report; then
    echo "$WANT" >"$STAMP"
    exit 0
fi
exit 1
