#!/usr/bin/env bash
# scripts/e2e/env.sh — source every function of the end-to-end suite (definitions only, no side
# effects), for scripts/e2e.sh and for each check's fresh bash (see e2e_check in lib.sh).
# Needs E2E_ROOT; LAYERFLAT_ENGINES_DIR selects the engines' state dir (scripts/engines.sh).
# shellcheck source-path=SCRIPTDIR source=../engines.sh
source "$E2E_ROOT/scripts/engines.sh"
# shellcheck source=lib.sh
source "$E2E_ROOT/scripts/e2e/lib.sh"
# shellcheck source=engine.sh
source "$E2E_ROOT/scripts/e2e/engine.sh"
# shellcheck source=setup.sh
source "$E2E_ROOT/scripts/e2e/setup.sh"
# shellcheck source=roundtrip.sh
source "$E2E_ROOT/scripts/e2e/roundtrip.sh"
# shellcheck source=vfs-cost.sh
source "$E2E_ROOT/scripts/e2e/vfs-cost.sh"
# shellcheck source=crafted.sh
source "$E2E_ROOT/scripts/e2e/crafted.sh"
# shellcheck source=integrity.sh
source "$E2E_ROOT/scripts/e2e/integrity.sh"
# shellcheck source=daemon.sh
source "$E2E_ROOT/scripts/e2e/daemon.sh"
# shellcheck source=podman-transport.sh
source "$E2E_ROOT/scripts/e2e/podman-transport.sh"
# shellcheck source=reclaim.sh
source "$E2E_ROOT/scripts/e2e/reclaim.sh"
# shellcheck source=registry.sh
source "$E2E_ROOT/scripts/e2e/registry.sh"
# shellcheck source=unpack.sh
source "$E2E_ROOT/scripts/e2e/unpack.sh"
