"""An RFC 3161 TSA on loopback, for tests/sign_cli.rs: OpenSSL's (`openssl ts -reply`, a TSA key
and certificate of its own made here), over Python's http.server -- nothing of kyso's.

    python3 tsa_server.py MODE DIR

MODE `genuine` answers as OpenSSL made the response; `tampered` rewrites the token's genTime
year to 2001 after OpenSSL signed it (what anyone on the path of an http:// TSA can do: the
imprint and nonce stay right, the TSA's signature no longer holds); `fraction` has OpenSSL
write genTime with milliseconds (`clock_precision_digits = 3`), as RFC 3161 allows and kyso's
client refused until helper 175 (2026-12-05). Prints the port it
listens on, then serves until killed. DIR holds the TSA's key, certificate (tsa.pem) and root.
"""
import http.server
import os
import subprocess
import sys

mode, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)


def run(*args):
    subprocess.run(args, check=True, capture_output=True, cwd=work)


with open(os.path.join(work, 'ext.cnf'), 'w') as f:
    f.write('[root]\nbasicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign, cRLSign\n'
            'subjectKeyIdentifier = hash\n'
            '[tsa]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature\n'
            'extendedKeyUsage = critical, timeStamping\nsubjectKeyIdentifier = hash\n'
            'authorityKeyIdentifier = keyid\n')
with open(os.path.join(work, 'ts.cnf'), 'w') as f:
    f.write('[tsa_config]\nserial = serial\nsigner_digest = sha256\n'
            'default_policy = 1.3.6.1.4.1.99999.1\ndigests = sha256\ness_cert_id_alg = sha256\n'
            'accuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n'
            + ('clock_precision_digits = 3\n' if mode == 'fraction' else ''))
with open(os.path.join(work, 'serial'), 'w') as f:
    f.write('01\n')
with open(os.path.join(work, 'req.cnf'), 'w') as f:
    f.write('[req]\ndistinguished_name = dn\n[dn]\n' + open(os.path.join(work, 'ext.cnf')).read())
run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out',
    'root.pem', '-days', '30', '-subj', '/C=VN/O=Test TSA/CN=Test TSA Root', '-extensions', 'root',
    '-config', 'req.cnf')
run('openssl', 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tsa.key', '-out',
    'tsa.csr', '-subj', '/C=VN/O=Test TSA/CN=Test TSA', '-config', 'req.cnf')
run('openssl', 'x509', '-req', '-in', 'tsa.csr', '-CA', 'root.pem', '-CAkey', 'root.key',
    '-set_serial', '2', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'tsa', '-out', 'tsa.pem')


class Tsa(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        req = self.rfile.read(int(self.headers['Content-Length']))
        q, r = os.path.join(work, 'q.tsq'), os.path.join(work, 'r.tsr')
        open(q, 'wb').write(req)
        run('openssl', 'ts', '-reply', '-config', 'ts.cnf', '-section', 'tsa_config', '-queryfile',
            q, '-signer', 'tsa.pem', '-inkey', 'tsa.key', '-chain', 'root.pem', '-out', r)
        resp = open(r, 'rb').read()
        if mode == 'tampered':
            i = resp.find(b'\x18\x0f20')
            assert i > 0, 'no genTime'
            resp = resp[:i + 2] + b'2001' + resp[i + 6:]
        self.send_response(200)
        self.send_header('Content-Type', 'application/timestamp-reply')
        self.send_header('Content-Length', str(len(resp)))
        self.end_headers()
        self.wfile.write(resp)

    def log_message(self, *a):
        pass


server = http.server.HTTPServer(('127.0.0.1', 0), Tsa)
print(server.server_address[1], flush=True)
server.serve_forever()
