#!/usr/bin/env bash
# Times `thumbd render` against vipsthumbnail, ImageMagick and the ffmpeg tool on the
# same inputs, and measures each command's peak memory. `make bench` installs the
# tools and builds target/release/thumbd before it calls this script.
#
# Inputs are generated into bench-data/ on the first run and reused afterwards.
# hyperfine's Markdown, JSON and CSV exports, the outputs and summary.md go there too.
# BENCHMARKS.md describes what each comparison measures and records one run.
#
# Environment overrides: BENCH_DATA (folder), THUMBD (binary), BENCH_RUNS_IMAGE,
# BENCH_RUNS_SEEK, BENCH_RUNS_SPRITE (timed runs per command), MEMORY_RUNS (runs per
# command under /usr/bin/time, of which the maximum is reported).
# NOTE: hyperfine and /usr/bin/time get each command split on spaces, so BENCH_DATA
# and THUMBD must be paths without spaces.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${BENCH_DATA:-bench-data}
THUMBD=${THUMBD:-target/release/thumbd}
RUNS_IMAGE=${BENCH_RUNS_IMAGE:-20}
RUNS_SEEK=${BENCH_RUNS_SEEK:-10}
RUNS_SPRITE=${BENCH_RUNS_SPRITE:-5}
MEMORY_RUNS=${MEMORY_RUNS:-3}

PHOTO=$DATA/photo-4000x3000-q90.jpg
CLIP_1080=$DATA/testsrc2-1080p-60s.mp4
CLIP_720=$DATA/testsrc2-720p-10min.mp4
OUT=$DATA/out
SUMMARY=$DATA/summary.md

# ImageMagick 7 names its tool `magick`, and ImageMagick 6, which Debian 12 ships,
# names it `convert`.
if command -v magick >/dev/null; then
	IMAGEMAGICK=(magick)
else
	IMAGEMAGICK=(convert)
fi

require() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "bench.sh: $tool not found; run 'make bench', which installs it" >&2
			exit 1
		fi
	done
}

require ffmpeg ffprobe vipsthumbnail vipsheader hyperfine "${IMAGEMAGICK[0]}"
if [ ! -x /usr/bin/time ]; then
	echo "bench.sh: GNU time (/usr/bin/time) not found; install the 'time' package" >&2
	exit 1
fi
if [ ! -x "$THUMBD" ]; then
	echo "bench.sh: $THUMBD not found; build it with 'cargo build --release --locked'" >&2
	exit 1
fi

mkdir -p "$DATA" "$OUT"

# The commit is read before measuring, because the tree may change during the run.
# NOTE: a tree that is clean here can still differ from the one $THUMBD was built from.
REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null; then
	REVISION+=" (with uncommitted changes in src/ or Cargo files)"
fi
# Other work on the machine shows up as noise. The 1-minute load average is
# recorded before and after the comparisons.
LOAD_BEFORE=$(cut -d ' ' -f 1 /proc/loadavg)

# --- Inputs ------------------------------------------------------------------------

# A 12 MP photo-like JPEG. The committed photo is 640x427, so it is scaled up to fill
# 4000x3000 (centre crop) and film grain is added. Without the grain the upscaled
# photo is unusually smooth: it compresses to 0.8 MB instead of 3.8 MB, and
# vipsthumbnail makes (a)'s thumbnail of it in 72 ms instead of 102 ms on the
# machine of BENCHMARKS.md. ffmpeg writes the pixels
# losslessly and libvips encodes them, because ffmpeg's mjpeg encoder has no
# libjpeg-style quality 90 setting. subsample-mode=on keeps 4:2:0 chroma, libjpeg's
# default, where libvips would write 4:4:4 at quality 90 and above.
if [ ! -s "$PHOTO" ]; then
	echo "generating $PHOTO"
	ffmpeg -nostdin -loglevel error -y -i assets/demo/rocket.jpg \
		-vf "scale=4000:3000:force_original_aspect_ratio=increase:flags=lanczos,crop=4000:3000,noise=alls=12:allf=t" \
		-frames:v 1 -pix_fmt rgb24 "$DATA/photo-4000x3000.ppm"
	vips copy "$DATA/photo-4000x3000.ppm" "$PHOTO[Q=90,subsample-mode=on]"
	rm "$DATA/photo-4000x3000.ppm"
fi

# testsrc2 clips: 25 fps, a keyframe every 2 s and no scene-cut keyframes, yuv420p.
# The veryfast preset keeps generating the 10-minute clip to about two minutes on
# two cores.
generate_clip() {
	local size=$1 seconds=$2 path=$3
	if [ -s "$path" ]; then
		return
	fi
	echo "generating $path"
	ffmpeg -nostdin -loglevel error -y \
		-f lavfi -i "testsrc2=size=$size:rate=25:duration=$seconds" \
		-c:v libx264 -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 \
		-pix_fmt yuv420p -movflags +faststart "$path.partial.mp4"
	mv "$path.partial.mp4" "$path"
}
generate_clip 1920x1080 60 "$CLIP_1080"
generate_clip 1280x720 600 "$CLIP_720"

# --- Measurement helpers -----------------------------------------------------------

# Prints the maximum resident set size, in KiB, over MEMORY_RUNS runs of a command.
peak_rss_kib() {
	local max=0 run kib
	for ((run = 0; run < MEMORY_RUNS; run++)); do
		/usr/bin/time -f %M -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt" || {
			echo "bench.sh: command failed under /usr/bin/time: $*" >&2
			cat "$OUT/stderr.txt" >&2
			exit 1
		}
		kib=$(tail -n 1 "$OUT/time.txt")
		if ((kib > max)); then
			max=$kib
		fi
	done
	echo "$max"
}

# Runs hyperfine on named commands ("name" "command" pairs) with exports named after
# the comparison, then measures each command's peak memory into $DATA/NAME.rss.
compare() {
	local name=$1 warmup=$2 runs=$3
	shift 3
	local -a arguments=() names=() commands=()
	while (($#)); do
		names+=("$1")
		commands+=("$2")
		arguments+=(--command-name "$1" "$2")
		shift 2
	done

	echo
	echo "== $name =="
	hyperfine --shell=none --warmup "$warmup" --runs "$runs" \
		--export-markdown "$DATA/$name.md" \
		--export-json "$DATA/$name.json" \
		--export-csv "$DATA/$name.csv" \
		"${arguments[@]}"

	: >"$DATA/$name.rss"
	local index
	for index in "${!commands[@]}"; do
		local -a words
		read -r -a words <<<"${commands[$index]}"
		echo "${names[$index]},$(peak_rss_kib "${words[@]}")" >>"$DATA/$name.rss"
	done
}

# --- Comparisons -------------------------------------------------------------------

OUT_ABS=$(cd "$OUT" && pwd)

# (a) 12 MP JPEG to a 320x180 centre-cropped JPEG at quality 80. vipsthumbnail reads
# `-o` relative to the input's folder, so it gets an absolute path. ImageMagick gets
# the jpeg:size hint, which makes it decode at a reduced DCT scale. Without the hint,
# one run of ImageMagick 6.9.11 took three times as long and 120 MiB on this photo.
IMAGE_PARAMS="--params width/320/height/180/type/3/quality/80"
compare image 3 "$RUNS_IMAGE" \
	thumbd "$THUMBD render $PHOTO $IMAGE_PARAMS -o $OUT/image-thumbd.jpg" \
	vipsthumbnail "vipsthumbnail $PHOTO -s 320x180 -c -o $OUT_ABS/image-vipsthumbnail.jpg[Q=80]" \
	imagemagick "${IMAGEMAGICK[*]} -define jpeg:size=640x360 $PHOTO -thumbnail 320x180^ -gravity center -extent 320x180 -quality 80 $OUT/image-imagemagick.jpg"

# (b) One frame at 30 s of the 1080p clip, scaled to 640x360. Input seeking (-ss
# before -i) is ffmpeg's fast path: it seeks to the keyframe and decodes forward.
SEEK_PARAMS="--params vid_sec/30/width/640/height/360"
compare seek 2 "$RUNS_SEEK" \
	thumbd "$THUMBD render $CLIP_1080 $SEEK_PARAMS -o $OUT/seek-thumbd.jpg" \
	ffmpeg "ffmpeg -nostdin -loglevel error -y -ss 30 -i $CLIP_1080 -frames:v 1 -vf scale=640:360 -q:v 3 $OUT/seek-ffmpeg.jpg"

# (c) A 20-slice sprite of 160x90 tiles from the 10-minute 720p clip. The fps filter
# keeps one frame per 30 s, but ffmpeg decodes every frame to get there. thumbd
# seeks to the keyframe before each slice.
SPRITE_PARAMS="--params width/160/height/90/vid_slices/20"
compare sprite 1 "$RUNS_SPRITE" \
	thumbd "$THUMBD render $CLIP_720 $SPRITE_PARAMS -o $OUT/sprite-thumbd.jpg" \
	ffmpeg "ffmpeg -nostdin -loglevel error -y -i $CLIP_720 -vf fps=1/30,scale=160:90,tile=20x1 -frames:v 1 $OUT/sprite-ffmpeg.jpg"

# --- Summary -----------------------------------------------------------------------

# Prints "mean_ms stddev_ms" for one command of a hyperfine CSV export.
milliseconds_of() {
	awk -F, -v name="$2" 'NR > 1 && $1 == name { printf "%.1f %.1f\n", $2 * 1000, $3 * 1000 }' "$1"
}

rss_of() {
	awk -F, -v name="$2" '$1 == name { print $2 }' "$1"
}

dimensions_of() {
	vipsheader -f width "$1" | tr -d '\n'
	printf x
	vipsheader -f height "$1"
}

# Prints A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# Appends one table to the summary: every command's time, peak memory and output
# size, with its time and memory as a multiple of the reference peer's, then whether
# each thumbd row meets the target. CHECKS is "time" (time ratio at most BOUND) or
# "time+memory" (also peak RSS at most the reference's).
summarize() {
	local name=$1 title=$2 reference=$3 bound=$4 checks=$5
	local csv=$DATA/$name.csv rss=$DATA/$name.rss
	local reference_mean reference_sd reference_rss
	read -r reference_mean reference_sd < <(milliseconds_of "$csv" "$reference")
	reference_rss=$(rss_of "$rss" "$reference")

	local row mean sd kib time_ratio memory_ratio verdict verdicts=""
	{
		echo
		echo "### $title"
		echo
		echo "| command | mean ± σ (ms) | peak RSS (MiB) | output | time ÷ $reference | RSS ÷ $reference |"
		echo "|---|---|---|---|---|---|"
		while IFS=, read -r row kib; do
			read -r mean sd < <(milliseconds_of "$csv" "$row")
			time_ratio=$(ratio "$mean" "$reference_mean")
			memory_ratio=$(ratio "$kib" "$reference_rss")
			echo "| $row | $mean ± $sd | $(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }') | $(dimensions_of "$OUT/$name-$row.jpg") | $time_ratio | $memory_ratio |"

			if [[ $row == thumbd* ]]; then
				verdict=$(awk -v t="$time_ratio" -v m="$kib" -v n="$reference_rss" \
					-v bound="$bound" -v checks="$checks" 'BEGIN {
						ok = t <= bound
						if (checks == "time+memory") ok = ok && m <= n
						print ok ? "met" : "missed"
					}')
				verdicts+="${verdicts:+; }$row: **$verdict**"
			fi
		done <"$rss"

		echo
		printf "Target: time ≤ %s × %s" "$bound" "$reference"
		if [ "$checks" = time+memory ]; then
			printf " and peak RSS ≤ %s's" "$reference"
		fi
		echo ". $verdicts."
	} >>"$SUMMARY"
}

{
	echo "# thumbd benchmark summary"
	echo
	echo "thumbd $REVISION, finished $(date -u +%Y-%m-%dT%H:%MZ)."
	echo "1-minute load average, which includes the benchmarked commands: $LOAD_BEFORE before the comparisons, $(cut -d ' ' -f 1 /proc/loadavg) after, on $(nproc) CPUs."
	echo "Times are hyperfine means; peak RSS is the maximum of $MEMORY_RUNS runs under /usr/bin/time -f %M."
	echo "Ratios are the row's mean time and peak RSS divided by the reference's."
} >"$SUMMARY"
summarize image "(a) 4000x3000 JPEG → 320x180 crop, quality 80" vipsthumbnail 1.0 time+memory
summarize seek "(b) 1080p clip, frame at 30 s → 640x360" ffmpeg 1.2 time
summarize sprite "(c) 10-minute 720p clip → 20 × 160x90 sprite" ffmpeg 0.5 time

echo
cat "$SUMMARY"
