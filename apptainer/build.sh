#!/usr/bin/env bash
# Build the HARVEST training image (harvest.sif) for Slurm sites from the Docker image that
# deploy/Dockerfile makes, so the cluster runs exactly what the Kubernetes and compose deployments run.
#
#   apptainer/build.sh [--from SOURCE] [--output FILE] [--tag TAG] [--gpu] [--force]
#
# SOURCE is where the Docker image comes from:
#   daemon    the local Docker engine (default): apptainer build harvest.sif docker-daemon://harvest-gpu:TAG
#   registry  a registry, for sites without Docker: docker://REGISTRY/harvest-gpu:TAG (set --image)
#   archive   a `docker save` tarball copied to the cluster: docker-archive://FILE (set --image to the file)
#   def       no Docker image at all: build from apptainer/harvest.def (pip installs from PyPI)
#
# The GPU (CUDA) variant is the default, since training runs on GPU nodes; --cpu picks the CPU image.
# After building, the image's self-check runs: `python -m harvest.training --help` inside it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
source_kind=daemon
output=harvest.sif
tag=0.1.0
variant=gpu
image=""
force=()

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "apptainer/build.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --from) source_kind=${2:?--from needs daemon, registry, archive or def}; shift 2 ;;
        --output) output=${2:?--output needs a file name}; shift 2 ;;
        --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
        --image) image=${2:?--image needs an image reference or a file}; shift 2 ;;
        --gpu) variant=gpu; shift ;;
        --cpu) variant=cpu; shift ;;
        --force) force=(--force); shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

command -v apptainer >/dev/null 2>&1 || die "apptainer is not installed (https://apptainer.org/docs/admin/main/installation.html)"
[[ -e "$output" && ${#force[@]} -eq 0 ]] && die "$output exists; pass --force to replace it"

name=harvest-gpu
[[ "$variant" == cpu ]] && name=harvest
case "$source_kind" in
    daemon)
        uri="docker-daemon://${image:-$name:$tag}" ;;
    registry)
        [[ -n "$image" ]] || die "--from registry needs --image REGISTRY/$name:$tag"
        uri="docker://$image" ;;
    archive)
        [[ -f "$image" ]] || die "--from archive needs --image FILE (made with: docker save $name:$tag -o FILE)"
        uri="docker-archive://$image" ;;
    def)
        uri="$here/harvest.def" ;;
    *) die "--from must be daemon, registry, archive or def, not $source_kind" ;;
esac

echo "apptainer/build.sh: building $output from $uri"
if [[ "$source_kind" == def ]]; then
    (cd "$root" && apptainer build "${force[@]}" "$output" "$uri")
else
    apptainer build "${force[@]}" "$output" "$uri"
fi
apptainer exec "$output" python -m harvest.training --help >/dev/null
echo "apptainer/build.sh: done. Copy $output to a path every compute node reads and set"
echo "  HARVEST_SLURM_APPTAINER=true HARVEST_SLURM_IMAGE=/path/to/$(basename "$output")"
