# Media servers on loopback for the tests of pp-publish and of pixelpass
# host --publish (sourced after libtest.sh), everything in $TEST_TMP
# (call cd "$TEST_TMP" first: nginx's prefix, its logs and temp dirs):
#
#   need_nginx_modules       nginx and its RTMP and stream modules, or bail
#   free_ports N             N ports nothing listens on now (127.0.0.1)
#   nginx_rtmp_block RTMP HTTP
#                            prints the rtmp {} block of nginx-rtmp on
#                            127.0.0.1:RTMP: application live, publishing
#                            checked by on_publish at the http server,
#                            HLS written to $TEST_TMP/hls
#   nginx_man_block RTMP     prints the nginx.conf block of pixelpass(1)'s
#                            EXAMPLES, listening on 127.0.0.1:RTMP rather
#                            than on port 1935 of every address, its
#                            hls_path $TEST_TMP/hls rather than /var/www/hls
#   nginx_rtmp_conf HTTP KEY < BLOCK
#                            writes nginx.conf: the module, the rtmp block
#                            read from stdin, and the http server on
#                            127.0.0.1:HTTP that allows publishing to a
#                            stream whose name starts with KEY only
#                            (/auth) and serves $TEST_TMP/hls at /hls/
#   start_nginx RTMP         starts (or starts again) nginx of nginx.conf,
#                            waits until RTMP listens; its pid in NGINX
#   tls_terminator TLS RTMP  a self-signed certificate for 127.0.0.1
#                            (cert.pem, key.pem) and nginx's stream module
#                            on 127.0.0.1:TLS carrying TLS to RTMP (RTMPS);
#                            started, its pid in TLSPROXY
#   nc_listening PORT        a TCP socket listens on 127.0.0.1:PORT
#   served_codecs URL        the codecs ffprobe finds in URL, sorted, on one
#                            line ("aac h264 ")
#   served_frames URL N      how many of its first N video frames decode

NGINX_MODS=/usr/lib/nginx/modules
need_nginx_modules() {
	local m
	need nginx
	for m in ngx_rtmp_module ngx_stream_module; do
		[ -f "$NGINX_MODS/$m.so" ] || bail "no $NGINX_MODS/$m.so (libnginx-mod-rtmp, libnginx-mod-stream)"
	done
}

free_ports() {
	python3 -c 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

nginx_rtmp_block() {
	cat <<-EOF
	rtmp {
		server {
			listen 127.0.0.1:$1;
			application live {
				live on;
				record off;
				notify_method get;
				on_publish http://127.0.0.1:$2/auth;
				hls on;
				hls_path $TEST_TMP/hls;
				hls_fragment 1s;
				hls_playlist_length 6s;
			}
		}
	}
	EOF
}

nginx_man_block() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$top_srcdir/man/pixelpass.1" |
	    sed -n '/^rtmp {$/,/^\.Ed$/p' | sed '$d' > "$TEST_TMP/man.block"
	grep -q 'listen 1935;' "$TEST_TMP/man.block" && grep -q 'hls_path /var/www/hls;' "$TEST_TMP/man.block" ||
	    bail "pixelpass(1) has no nginx.conf block with listen 1935 and hls_path /var/www/hls"
	sed -e "s|listen 1935;|listen 127.0.0.1:$1;|" -e "s|/var/www/hls|$TEST_TMP/hls|" "$TEST_TMP/man.block"
}

nginx_rtmp_conf() {
	mkdir -p "$TEST_TMP/logs" "$TEST_TMP/hls" "$TEST_TMP/tmp"
	{
		cat <<-EOF
		load_module $NGINX_MODS/ngx_rtmp_module.so;
		daemon off;
		master_process off;
		worker_processes 1;
		pid nginx.pid;
		error_log logs/error.log info;
		events { worker_connections 256; }
		EOF
		cat
		cat <<-EOF
		http {
			access_log logs/access.log;
			client_body_temp_path tmp;
			proxy_temp_path tmp;
			fastcgi_temp_path tmp;
			uwsgi_temp_path tmp;
			scgi_temp_path tmp;
			server {
				listen 127.0.0.1:$1;
				location /auth {
					if (\$arg_name !~ ^$2) { return 403; }
					return 204;
				}
				location /hls/ { alias $TEST_TMP/hls/; }
			}
		}
		EOF
	} > "$TEST_TMP/nginx.conf"
}

nc_listening() { (exec 9<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

start_nginx() {
	nginx -p "$TEST_TMP" -c "$TEST_TMP/nginx.conf" -e logs/error.log 2>> "$TEST_TMP/logs/nginx.err" &
	NGINX=$!
	track_pid $NGINX
	wait_for 10 nc_listening "$1" || bail "nginx-rtmp did not start ($(tail -2 "$TEST_TMP/logs/nginx.err"))"
}

tls_terminator() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2> /dev/null ||
		bail "openssl could not make a certificate"
	mkdir -p "$TEST_TMP/logs"
	cat > "$TEST_TMP/tls.conf" <<-EOF
	load_module $NGINX_MODS/ngx_stream_module.so;
	daemon off;
	master_process off;
	worker_processes 1;
	pid tls.pid;
	error_log logs/tls.log info;
	events { worker_connections 64; }
	stream {
		server {
			listen 127.0.0.1:$1 ssl;
			ssl_certificate $TEST_TMP/cert.pem;
			ssl_certificate_key $TEST_TMP/key.pem;
			proxy_pass 127.0.0.1:$2;
		}
	}
	EOF
	nginx -p "$TEST_TMP" -c "$TEST_TMP/tls.conf" -e logs/tls.log 2>> "$TEST_TMP/logs/nginx.err" &
	TLSPROXY=$!
	track_pid $TLSPROXY
	wait_for 10 nc_listening "$1" || bail "the TLS terminator did not start"
}

# (a TS lists its streams once more under its program: sort -u)
served_codecs() {
	timeout 15 ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$1" 2> /dev/null |
		grep . | sort -u | tr '\n' ' '
}

served_frames() {
	timeout 15 ffmpeg -v error -i "$1" -map 0:v:0 -frames:v "$2" -f framemd5 - 2> /dev/null |
		grep -c '^0,'
}
# video_size URL: the WIDTHxHEIGHT of URL's first video stream, as ffprobe reads it.
video_size() {
	timeout 15 ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
	    -of csv=p=0:s=x "$1" 2> /dev/null | grep -m 1 .
}

# first_pmt FILE: the stream types the first PMT in FILE names, in its
# order, as hex ("1b 0f": H.264, AAC): the tracks a player chooses from.
first_pmt() {
	python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
def pid(p): return ((p[1] & 0x1f) << 8) | p[2]
def section(p):
    pl = p[5 + p[4]:] if p[3] & 0x20 else p[4:]
    return pl[1 + pl[0]:] if p[1] & 0x40 else None
pmt = None
for i in range(0, len(d) - 187, 188):
    p = d[i:i + 188]
    s = section(p) if p[0] == 0x47 else None
    if s is None:
        continue
    if pid(p) == 0 and s[0] == 0:
        pmt = ((s[10] & 0x1f) << 8) | s[11]
    elif pmt is not None and pid(p) == pmt and s[0] == 2:
        end = 3 + (((s[1] & 0x0f) << 8) | s[2]) - 4
        j = 12 + (((s[10] & 0x0f) << 8) | s[11])
        types = []
        while j + 5 <= end:
            types.append("%02x" % s[j])
            j += 5 + (((s[j + 3] & 0x0f) << 8) | s[j + 4])
        print(" ".join(types))
        sys.exit()
sys.exit("no PMT in " + sys.argv[1])
PY
}
