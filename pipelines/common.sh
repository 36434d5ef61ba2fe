# Shared by the stage scripts in this directory (sourced, not run).
#
# Environment (defaults in brackets):
#   REDIS_HOST [127.0.0.1]  REDIS_PORT [6379]  REDIS_SOCKET [unset]
#       The Redis server. REDIS_SOCKET, when set, is a unix socket path and
#       REDIS_HOST/REDIS_PORT are not used.
#   INPUT_STREAM [video-frames]  OUTPUT_STREAM [processed-frames]
#   PROCESSOR_GROUP [processors]  DISPLAY_GROUP [display]  VIEWER_GROUP [viewer]
#   WIDTH [1280]  HEIGHT [720]  FPS [30]  OPERATION [motion]
#   VIEWER_ADDRESS [127.0.0.1]  VIEWER_PORT [8080]
#   GST_PLUGIN_PATH  when unset and the scripts run from the source tree, the
#       plugins of the build directory $BUILDDIR [<source>/build] are used;
#       installed (commands gst-redis-<stage>, see README.md), the scripts
#       leave it alone and GStreamer finds the installed plugins.
#
# Every stage prints its gst-launch-1.0 line, then replaces itself with it
# (exec), so the stage's PID is the pipeline's PID. With --print a stage
# prints the line and exits without running it.

: "${REDIS_HOST:=127.0.0.1}"
: "${REDIS_PORT:=6379}"
: "${REDIS_SOCKET:=}"
: "${INPUT_STREAM:=video-frames}"
: "${OUTPUT_STREAM:=processed-frames}"
: "${PROCESSOR_GROUP:=processors}"
: "${DISPLAY_GROUP:=display}"
: "${VIEWER_GROUP:=viewer}"
: "${WIDTH:=1280}"
: "${HEIGHT:=720}"
: "${FPS:=30}"
: "${OPERATION:=motion}"
: "${VIEWER_ADDRESS:=127.0.0.1}"
: "${VIEWER_PORT:=8080}"

pipelines_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(dirname "$pipelines_dir")

if [ -f "$source_dir/meson.build" ]; then
  # From the source tree: use the plugins just built, unless the caller chose.
  if [ -z "${GST_PLUGIN_PATH:-}${GST_PLUGIN_PATH_1_0:-}" ]; then
    builddir=${BUILDDIR:-$source_dir/build}
    case "$builddir" in /*) ;; *) builddir=$source_dir/$builddir ;; esac
    if [ -d "$builddir/gst" ]; then
      export GST_PLUGIN_PATH="$builddir/gst"
    fi
  fi
elif [ -f "$pipelines_dir/install-paths.sh" ]; then
  # Installed by meson: install-paths.sh names the plugin directory when it
  # is not the one GStreamer scans by itself (a prefix such as /usr/local).
  source "$pipelines_dir/install-paths.sh"
  if [ -n "${GST_REDIS_STREAMS_PLUGIN_DIR:-}" ]; then
    case ":${GST_PLUGIN_PATH:-}:" in
      *":$GST_REDIS_STREAMS_PLUGIN_DIR:"*) ;;
      *) export GST_PLUGIN_PATH="$GST_REDIS_STREAMS_PLUGIN_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}" ;;
    esac
  fi
fi

# The connection properties of redisstreamsrc/redisstreamsink.
if [ -n "$REDIS_SOCKET" ]; then
  REDIS_PROPS=("socket-path=$REDIS_SOCKET")
else
  REDIS_PROPS=("host=$REDIS_HOST" "port=$REDIS_PORT")
fi

# Quotes one word for the shell only when it needs it, so the printed line
# stays readable: video/x-raw,format=I420 is left as it is.
shell_word() {
  case "$1" in
    "" | *[!A-Za-z0-9_./:=,@%+!-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# run_pipeline ARG...: prints the command (with GST_PLUGIN_PATH when set) and
# runs it in place of this shell. "!" separators are printed as they are.
run_pipeline() {
  local line="" a
  [ -n "${GST_PLUGIN_PATH:-}" ] && line="GST_PLUGIN_PATH=$(shell_word "$GST_PLUGIN_PATH") "
  line+="gst-launch-1.0"
  for a in "$@"; do
    line+=" $(shell_word "$a")"
  done
  echo "$line"
  if [ "${PRINT_ONLY:-0}" = 1 ]; then
    exit 0
  fi
  exec gst-launch-1.0 "$@"
}

for _arg in "$@"; do
  case "$_arg" in
    --print) PRINT_ONLY=1 ;;
    -h | --help)
      # the comment block at the top of the script, up to its first
      # line that is not a comment
      sed -n '2,${/^#/!q;s/^# \{0,1\}//;p}' "$0"
      exit 0 ;;
    *) echo "$(basename "$0"): unknown argument $_arg (try --help)" >&2; exit 2 ;;
  esac
done
unset _arg
