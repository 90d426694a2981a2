#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Misbehaving HTTP clients for http_limits.sh (and bench/http.sh): many
# large unauthenticated bodies, idle connections, a head or a body
# trickled byte by byte, Expect: 100-continue without a token. Each
# prints one line of key=value results.
import socket, sys, threading, time

def conn(host, port):
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def status_of(data):
    try:
        line = data.split(b"\r\n", 1)[0].decode()
        return int(line.split(" ")[1])
    except Exception:
        return 0

def read_reply(s, limit=5.0):
    s.settimeout(limit)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except Exception:
        pass
    return data

def bodies(host, port, n, size, path="/v1/jobs"):
    """n connections at once, each a POST of size bytes without a token."""
    codes, sent = [], []
    lock = threading.Lock()
    def one():
        s = conn(host, port)
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (path, size)).encode())
        chunk, total = b" " * 65536, 0
        s.settimeout(10)
        try:
            while total < size:
                total += s.send(chunk[: min(len(chunk), size - total)])
        except Exception:
            pass
        code = status_of(read_reply(s))
        with lock:
            codes.append(code)
            sent.append(total)
        s.close()
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    print("codes=%s sent_max=%d" % (",".join(str(c) for c in sorted(set(codes))), max(sent)))

def idle(host, port, n):
    """n connections that send nothing; how many the server refused at once."""
    socks, refused = [], 0
    for _ in range(n):
        try:
            socks.append(conn(host, port))
        except Exception:
            refused += 1
    time.sleep(0.5)
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(4096)
            if status_of(d) == 503 or d == b"":
                refused += 1
        except BlockingIOError:
            pass
        except Exception:
            refused += 1
    print("open=%d refused=%d" % (n - refused, refused))
    if len(sys.argv) > 5:
        time.sleep(float(sys.argv[5]))
    for s in socks:
        s.close()

def trickle(host, port, head, body_bytes, every, total):
    """Send head, then body_bytes one byte every `every` s; report when the
    server answered or closed, and with which status."""
    s = conn(host, port)
    s.sendall(head)
    t0 = time.time()
    s.settimeout(every)
    got = b""
    for i in range(total):
        try:
            d = s.recv(65536)
            if d == b"" or d:
                got += d
                break
        except socket.timeout:
            pass
        except Exception:
            break
        try:
            s.send(body_bytes[i:i+1] or b"x")
        except Exception:
            break
    else:
        got = b"(still open)"
    print("status=%d after=%.1f" % (status_of(got), time.time() - t0))

def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "bodies":
        bodies(host, port, int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "idle":
        idle(host, port, int(sys.argv[4]))
    elif cmd == "trickle-head":
        head = b"GET /healthz HTTP/1.1\r\n"
        trickle(host, port, head, b"Host: x\r\nX-Slow: " + b"a" * 200, 0.25, 40)
    elif cmd == "trickle-body":
        tok = sys.argv[4]
        head = ("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n" % tok).encode()
        trickle(host, port, head, b"{" + b" " * 199, 0.25, 40)
    elif cmd == "expect":
        s = conn(host, port)
        s.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        print("status=%d" % status_of(read_reply(s)))
    elif cmd == "seq":
        n, tok = int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else ""
        s = conn(host, port)
        req = ("GET /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
            "Authorization: Bearer %s\r\n" % tok if tok else "")).encode()
        t0 = time.time()
        buf = b""
        for _ in range(n):
            s.sendall(req)
            while True:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    hdr = buf[:i].decode("latin-1").lower()
                    cl = int(hdr.split("content-length:")[1].split("\r\n")[0])
                    if len(buf) >= i + 4 + cl:
                        buf = buf[i + 4 + cl:]
                        break
                d = s.recv(65536)
                if not d:
                    print("req_per_s=closed")
                    return
                buf += d
        print("req_per_s=%.0f" % (n / (time.time() - t0)))
    elif cmd == "raw":
        s = conn(host, port)
        s.sendall(sys.argv[4].encode().decode("unicode_escape").encode("latin-1"))
        print("status=%d" % status_of(read_reply(s)))

main()
