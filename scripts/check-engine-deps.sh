#!/usr/bin/env bash
# The engine must stay pure: no async runtime, database, web framework or clock.
# A per-package tree is the reliable check (workspace builds unify features).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p promo-engine -e normal --prefix none)
if grep -E '^(tokio|sqlx|axum|tower|tower-http|hyper|tracing-subscriber) ' <<<"$tree"; then
  echo "promo-engine depends on an IO crate (above)" >&2
  exit 1
fi
chrono_features=$(cargo tree -p promo-engine -e normal -i chrono -f '{f}' --prefix none | head -n 1)
if grep -qw clock <<<"$chrono_features"; then
  echo "promo-engine gets chrono with its clock feature: $chrono_features" >&2
  exit 1
fi
echo "promo-engine dependencies are pure (chrono features: $chrono_features)"
