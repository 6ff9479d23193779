# natd %postun (CPack RPM). $1: 0 after erase, 1 or more after upgrade.
# An upgrade restarts a running natd; natd leaves the NAT in the kernel while
# it restarts, so traffic keeps flowing.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart natd.service >/dev/null 2>&1 || :
    fi
fi
