# natd %post (CPack RPM). $1: 1 on installation, 2 or more on upgrade.
# On the first installation apply the distribution's preset for natd.service
# (Amazon Linux: disabled unless a preset enables it); natd is not started.
if [ "$1" -eq 1 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload preset natd.service >/dev/null 2>&1 || :
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
