# natd %preun (CPack RPM). $1: 0 on erase, 1 or more on upgrade.
# On erase only: stop and disable natd, then undo what it applied and wrote
# (nftables table, return routes, networkd drop-ins, sysctl file, state)
# while the binary is still installed.
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl --no-reload disable --now natd.service >/dev/null 2>&1 || :
    fi
    natd --teardown ||
        echo "natd: 'natd --teardown' failed; natd's nftables table, routes or files may remain (see natd(8))" >&2
fi
