# Sourced first by every script in scripts/ and bench/: stop at the first command that fails and
# say which one, where, and with what status, instead of exiting in silence as plain `set -e`
# does. errtrace (-E) carries the trap into functions, subshells and command substitutions; a
# failure inside one is reported there and again at the line that called it, like a traceback.
# In a pipeline bash names only its last command, so every stage's status is given too.
set -Eeuo pipefail
lk_on_error() {
  local status=$1 command=$2 file=$3 line=$4 stages=$5
  local detail="exit status $status"
  [ "${stages// /}" = "$stages" ] || detail="exit statuses of the pipeline's commands: $stages"
  echo "${file##*/}: line $line: \`$command\` failed ($detail)" >&2
  exit "$status"
}
trap 'lk_on_error $? "$BASH_COMMAND" "${BASH_SOURCE[0]:-$0}" "$LINENO" "${PIPESTATUS[*]}"' ERR
