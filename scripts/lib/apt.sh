# Sourced by the install scripts: installs the Debian packages given that are not installed yet.
#
#   install_missing_packages PACKAGE...
#
# Any nginx flavour stands in for nginx-light. Needs root (or sudo) only when something is missing.
# policy-rc.d keeps Debian's postinst scripts from starting nginx or victoria-metrics as system services:
# the tests and the benchmark run their own processes. An existing policy-rc.d is left as it is.
install_missing_packages() {
    local package missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
        missing=("${missing[@]/nginx-light}")
    fi
    read -r -a missing <<<"${missing[*]}"
    ((${#missing[@]})) || return 0
    echo "==> installing: ${missing[*]}"
    local as_root=()
    [[ $(id -u) -eq 0 ]] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    local policy=/usr/sbin/policy-rc.d added_policy=0 status=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
        "${as_root[@]}" chmod +x "$policy"
        added_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null || status=$?
    if ((added_policy)); then "${as_root[@]}" rm -f "$policy"; fi
    return "$status"
}
