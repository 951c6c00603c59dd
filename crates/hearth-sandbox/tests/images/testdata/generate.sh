#!/usr/bin/env bash
# Regenerates the interop fixtures: a small two-layer image written by hand as an OCI
# layout (layers made by GNU tar, manifest in the store's canonical form), then
# converted by skopeo (another implementation) into
#   skopeo-docker-archive.tar  a legacy `docker save` archive (manifest.json, layer.tar
#                              symlinks, uncompressed layers)
#   skopeo-oci-gzip.tar        an OCI layout tar with gzip-compressed layers
# and expected.json with the digests and the root the store must produce.
# Needs: bash, GNU tar, python3, skopeo (Debian: apt-get install skopeo).
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tarit() { # tarit <dir> <out>: a reproducible GNU tar of <dir>'s contents
  (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
    tar --create --no-recursion --numeric-owner --owner=0 --group=0 --mtime=@0 \
        --format=gnu --files-from=- --file="$2")
}

mkdir -p "$work/l1/etc" "$work/l1/bin" "$work/l1/var/cache" "$work/l2/etc" "$work/l2/var/cache"
printf 'hello\n' > "$work/l1/etc/hello.txt"
printf 'bye\n' > "$work/l1/etc/gone.txt"
printf '#!/bin/sh\necho tool\n' > "$work/l1/bin/tool"
chmod 4755 "$work/l1/bin/tool"
ln -s tool "$work/l1/bin/tool-link"
ln "$work/l1/bin/tool" "$work/l1/bin/tool-hard"
printf 'a' > "$work/l1/var/cache/a"
printf 'b' > "$work/l1/var/cache/b"
: > "$work/l2/etc/.wh.gone.txt"
: > "$work/l2/var/cache/.wh..wh..opq"
printf 'c' > "$work/l2/var/cache/c"
printf 'hello again\n' > "$work/l2/etc/hello.txt"
tarit "$work/l1" "$work/layer1.tar"
tarit "$work/l2" "$work/layer2.tar"

python3 - "$work" <<'PY'
import hashlib, json, os, sys
work = sys.argv[1]
def put(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
    open(f"{layout}/blobs/sha256/{digest}", "wb").write(data)
    return f"sha256:{digest}"
def compact(value):
    return json.dumps(value, separators=(",", ":")).encode()
layout = f"{work}/layout"
layers = [open(f"{work}/layer{i}.tar", "rb").read() for i in (1, 2)]
diff_ids = [put(layout, l) for l in layers]
config = compact({"architecture": "amd64", "os": "linux",
                  "config": {"Env": ["PATH=/bin"], "Entrypoint": ["/bin/tool"], "Cmd": ["--help"], "WorkingDir": "/etc"},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}})
layer_type = "application/vnd.oci.image.layer.v1.tar"
manifest = compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(layout, config), "size": len(config)},
                    "layers": [{"mediaType": layer_type, "digest": d, "size": len(l)} for d, l in zip(diff_ids, layers)]})
digest = put(layout, manifest)
open(f"{layout}/index.json", "wb").write(compact({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(manifest)}]}))
open(f"{layout}/oci-layout", "wb").write(b'{"imageLayoutVersion":"1.0.0"}')
open(f"{work}/digest", "w").write(digest)
PY

rm -f skopeo-docker-archive.tar skopeo-oci-gzip.tar
skopeo copy --quiet --insecure-policy "oci:$work/layout" docker-archive:skopeo-docker-archive.tar:localhost/fixture:1
skopeo copy --quiet --insecure-policy --dest-compress-format gzip "oci:$work/layout" oci-archive:skopeo-oci-gzip.tar:fixture
gzip_digest="$(skopeo inspect --format '{{.Digest}}' oci-archive:skopeo-oci-gzip.tar)"

cat > expected.json <<JSON
{
  "skopeo-docker-archive.tar": {"digest": "$(cat "$work/digest")", "repo_tags": ["localhost/fixture:1"]},
  "skopeo-oci-gzip.tar": {"digest": "$gzip_digest", "repo_tags": ["fixture"]},
  "tree": ["bin", "bin/tool", "bin/tool-hard", "bin/tool-link", "etc", "etc/hello.txt", "var", "var/cache", "var/cache/c"],
  "entrypoint": ["/bin/tool"],
  "cmd": ["--help"],
  "working_dir": "/etc"
}
JSON
