# Shared by the stage scripts in this directory (sourced, not run).
#
# Environment (defaults in brackets):
#   REDIS_HOST [127.0.0.1]  REDIS_PORT [6379]  REDIS_SOCKET [unset]
#       The Redis server. REDIS_SOCKET, when set, is a unix socket path and
#       REDIS_HOST/REDIS_PORT are not used.
#   REDIS_DB [0]  the database number
#   REDIS_USER [unset]  the Redis ACL user (REDIS_USERNAME is read too);
#       each stage should have its own (docs/security.md)
#   REDIS_PASSWORD_FILE [unset]  a file whose first line is the password of
#       REDIS_USER (readable by the stage's user only: chmod 600)
#   REDIS_PASSWORD [unset]  the password itself, when there is no file
#       (set one of the two). Either way the password never reaches a
#       command line: the stage runs its line with pipelines/launch, which
#       sets it on the elements from the file or the variable, instead of
#       gst-launch-1.0; the line printed names the file or the variable,
#       never the password
#   REDIS_TLS [0]  1: TLS to Redis (REDIS_PORT is then the server's
#       tls-port; never with REDIS_SOCKET). The server's certificate is
#       verified; there is no way to turn that off
#   REDIS_TLS_CA_FILE [the system's CAs]  PEM file of the CA(s) that signed
#       the server's certificate
#   REDIS_TLS_SERVER_NAME [REDIS_HOST]  the name the server's certificate
#       must hold, when it is not REDIS_HOST
#   REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE [unset]  this host's client
#       certificate and its key (PEM), for a server with tls-auth-clients
#   INPUT_STREAM [video-frames]  OUTPUT_STREAM [processed-frames]
#   PROCESSOR_GROUP [processors]  DISPLAY_GROUP [display]  VIEWER_GROUP [viewer]
#   WIDTH [1280]  HEIGHT [720]  FPS [30]  OPERATION [motion]
#   VIEWER_ADDRESS [127.0.0.1]  VIEWER_PORT [8080]
#   H264_BITRATE [2000000]  GOP_SIZE [60]  JPEG_QUALITY [85]  how a stage
#       encodes when told to (ENCODING of the producer and the processor,
#       the viewer's h264 and jpeg cameras): openh264enc bit/s and frames
#       between key frames (a reader gets one sooner when it asks), jpegenc
#       quality
#   GST_PLUGIN_PATH (or GST_PLUGIN_PATH_1_0)  when unset and the scripts run
#       from the source tree, the plugins of the build directory $BUILDDIR
#       [<source>/build] are used; installed (commands gst-redis-<stage>,
#       see README.md), the scripts leave it alone and GStreamer finds the
#       installed plugins.
#
# Every stage prints its gst-launch-1.0 line (pipelines/launch when a
# password or token is set), then replaces itself with it (exec), so the
# stage's PID is the pipeline's PID. With --print a stage prints the line
# and exits without running it. --help shows the stage's settings and
# these.

for _arg in "$@"; do
  case "$_arg" in
    --print) PRINT_ONLY=1 ;;
    -h | --help)
      # the comment block at the top of the script, up to its first line
      # that is not a comment, then the shared settings of this file
      sed -n '2,${/^#/!q;s/^# \{0,1\}//;p}' "$0"
      echo
      echo "Shared settings (pipelines/common.sh):"
      sed -n '3,${/^#/!q;s/^# \{0,1\}/  /;p}' "${BASH_SOURCE[0]}"
      exit 0 ;;
    *) echo "$(basename "$0"): unknown argument $_arg (try --help)" >&2; exit 2 ;;
  esac
done
unset _arg

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
: "${H264_BITRATE:=2000000}"
: "${GOP_SIZE:=60}"
: "${JPEG_QUALITY:=85}"

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

# The connection properties of redisstreamsrc/redisstreamsink, and the
# secrets pipelines/launch sets on the elements (LAUNCH_SECRETS).
stage_error() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}
: "${REDIS_DB:=0}"
: "${REDIS_USER:=${REDIS_USERNAME:-}}"
: "${REDIS_PASSWORD_FILE:=}"
: "${REDIS_TLS:=0}"
: "${REDIS_TLS_CA_FILE:=}"
: "${REDIS_TLS_SERVER_NAME:=}"
: "${REDIS_TLS_CERT_FILE:=}"
: "${REDIS_TLS_KEY_FILE:=}"
case "$REDIS_TLS" in
  1 | true | yes) REDIS_TLS=1 ;;
  0 | false | no | "") REDIS_TLS=0 ;;
  *) stage_error "REDIS_TLS=$REDIS_TLS: use 1 (TLS) or 0" ;;
esac
if [ -n "$REDIS_SOCKET" ]; then
  [ "$REDIS_TLS" = 1 ] && stage_error "REDIS_TLS=1 with REDIS_SOCKET: Redis never speaks TLS on a unix socket; give REDIS_HOST and the server's tls-port in REDIS_PORT"
  REDIS_PROPS=("socket-path=$REDIS_SOCKET")
else
  REDIS_PROPS=("host=$REDIS_HOST" "port=$REDIS_PORT")
fi
[ "$REDIS_DB" != 0 ] && REDIS_PROPS+=("db=$REDIS_DB")
[ -n "$REDIS_USER" ] && REDIS_PROPS+=("username=$REDIS_USER")
if [ "$REDIS_TLS" = 1 ]; then
  REDIS_PROPS+=(tls=true)
  [ -n "$REDIS_TLS_CA_FILE" ] && REDIS_PROPS+=("tls-ca-file=$REDIS_TLS_CA_FILE")
  [ -n "$REDIS_TLS_SERVER_NAME" ] && REDIS_PROPS+=("tls-server-name=$REDIS_TLS_SERVER_NAME")
  [ -n "$REDIS_TLS_CERT_FILE" ] && REDIS_PROPS+=("tls-cert-file=$REDIS_TLS_CERT_FILE")
  [ -n "$REDIS_TLS_KEY_FILE" ] && REDIS_PROPS+=("tls-key-file=$REDIS_TLS_KEY_FILE")
else
  for _v in REDIS_TLS_CA_FILE REDIS_TLS_SERVER_NAME REDIS_TLS_CERT_FILE REDIS_TLS_KEY_FILE; do
    [ -n "${!_v}" ] && stage_error "$_v is set but REDIS_TLS is not 1: set REDIS_TLS=1 (the elements never fall back to plain text)"
  done
  unset _v
fi
LAUNCH_SECRETS=()
# secret_option FACTORIES PROPERTY FILE-VARIABLE VALUE-VARIABLE: the launch
# option that sets PROPERTY of every element of FACTORIES (comma-separated) from the file named by
# $FILE-VARIABLE (none when empty), or from the variable VALUE-VARIABLE
# itself (exported for pipelines/launch, which removes it from its
# environment)
secret_option() {
  local file="" value=${!4:-}
  [ -n "$3" ] && file=${!3:-}
  if [ -n "$file" ] && [ -n "$value" ]; then
    stage_error "both $3 and $4 are set: set one"
  elif [ -n "$file" ]; then
    LAUNCH_SECRETS+=(--secret-file "$1:$2:$file")
  elif [ -n "$value" ]; then
    export "${4?}"
    LAUNCH_SECRETS+=(--secret-env "$1:$2:$4")
  fi
}
secret_option redisstreamsrc,redisstreamsink password REDIS_PASSWORD_FILE REDIS_PASSWORD

# encoder MODE: sets ENCODER to the elements that encode raw video as MODE
# (raw: none; h264; jpeg), each followed by "!"; fails for another MODE.
# Encoders keep the frames' detections and capture times (their metas).
encoder() {
  case "$1" in
    raw) ENCODER=() ;;
    h264) ENCODER=(openh264enc "bitrate=$H264_BITRATE" "gop-size=$GOP_SIZE" !
      video/x-h264,stream-format=byte-stream,alignment=au !) ;;
    jpeg) ENCODER=(jpegenc "quality=$JPEG_QUALITY" !) ;;
    *) return 1 ;;
  esac
}

# Quotes one word for the shell only when it needs it, so the printed line
# stays readable: video/x-raw,format=I420 is left as it is.
shell_word() {
  case "$1" in
    "" | *[!A-Za-z0-9_./:=,@%+!-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# warn TEXT: a warning on stderr, after the line is printed
STAGE_WARNINGS=()
warn() {
  STAGE_WARNINGS+=("$(basename "$0"): warning: $*")
}
case "$REDIS_HOST" in
  127.* | localhost | ::1) ;;
  *)
    if [ -z "$REDIS_SOCKET" ] && [ "$REDIS_TLS" != 1 ]; then
      warn "Redis at $REDIS_HOST without TLS: frames and the password travel in clear text (REDIS_TLS=1, docs/deployment.md)"
    fi ;;
esac

# run_pipeline ARG...: prints the command (with GST_PLUGIN_PATH when set) and
# runs it in place of this shell: gst-launch-1.0, or pipelines/launch with
# the options of LAUNCH_SECRETS when there are secrets. "!" separators are
# printed as they are; no secret is ever part of the line.
run_pipeline() {
  local line="" a cmd
  if [ "${#LAUNCH_SECRETS[@]}" -gt 0 ]; then
    cmd=("$pipelines_dir/launch" "${LAUNCH_SECRETS[@]}")
  else
    cmd=(gst-launch-1.0)
  fi
  [ -n "${GST_PLUGIN_PATH:-}" ] && line="GST_PLUGIN_PATH=$(shell_word "$GST_PLUGIN_PATH") "
  for a in "${cmd[@]}" "$@"; do
    line+="$(shell_word "$a") "
  done
  echo "${line% }"
  for a in "${STAGE_WARNINGS[@]}"; do
    echo "$a" >&2
  done
  if [ "${PRINT_ONLY:-0}" = 1 ]; then
    exit 0
  fi
  exec "${cmd[@]}" "$@"
}
