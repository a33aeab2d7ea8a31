package config_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func startRedis(t testing.TB, args ...string) *redistest.Server {
	t.Helper()
	s, err := redistest.Start(redistest.Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// ping builds the client exactly as the services do and pings.
func ping(t testing.TB, c config.Common) error {
	t.Helper()
	rdb, err := c.Redis()
	if err != nil {
		t.Fatalf("Redis(): %v", err)
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

// TestRedisPassword: a password (requirepass) and an ACL user with a
// password both work through REDIS_URL. The password is set after start
// because redistest checks readiness with an unauthenticated PING.
func TestRedisPassword(t *testing.T) {
	s := startRedis(t)
	admin := s.Client(t)
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "chat", "on", ">chat-pw", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ConfigSet(ctx, "requirepass", "s3cret-pw").Err(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url, wantErr string
	}{
		{"password", "redis://:s3cret-pw@" + s.Addr + "/0", ""},
		{"ACL user and password", "redis://chat:chat-pw@" + s.Addr + "/0", ""},
		{"no password", "redis://" + s.Addr + "/0", "NOAUTH"},
		{"wrong password", "redis://:nope@" + s.Addr + "/0", "WRONGPASS"},
		{"wrong user", "redis://someone:chat-pw@" + s.Addr + "/0", "WRONGPASS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(env{"JWT_SECRET": "x", "REDIS_URL": tc.url}.get)
			if err != nil {
				t.Fatal(err)
			}
			err = ping(t, c)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("PING: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("PING: %v, want %s", err, tc.wantErr)
			}
		})
	}
}

// TestRedisTLS: rediss:// against Debian's redis-server with a TLS port and
// a certificate made here, trusted through REDIS_TLS_CA_FILE.
func TestRedisTLS(t *testing.T) {
	caPEM, certPEM, keyPEM := selfSignedChain(t)
	ca, cert, key := writeFile(t, "ca.pem", caPEM), writeFile(t, "cert.pem", certPEM), writeFile(t, "key.pem", keyPEM)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := startRedis(t, "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no")
	if err := s.Client(t).ConfigSet(context.Background(), "requirepass", "tls-pw").Err(); err != nil {
		t.Fatal(err)
	}
	tlsURL := "rediss://:tls-pw@127.0.0.1:" + strconv.Itoa(port) + "/0"
	c, err := config.Load(env{"JWT_SECRET": "x", "REDIS_URL": tlsURL, "REDIS_TLS_CA_FILE": ca}.get)
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(t, c); err != nil {
		t.Fatalf("PING over TLS: %v", err)
	}
	c.RedisCAFile = ""
	if err := ping(t, c); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("PING over TLS without trusting the CA: %v, want a certificate error", err)
	}
	plain := config.Common{RedisURL: "redis://:tls-pw@127.0.0.1:" + strconv.Itoa(port) + "/0"}
	if err := ping(t, plain); err == nil {
		t.Fatal("plain-text PING to the TLS port succeeded")
	}
	if _, err := (config.Common{RedisURL: "redis://" + s.Addr, RedisCAFile: ca}).Redis(); err == nil {
		t.Fatal("REDIS_TLS_CA_FILE accepted with a redis:// URL")
	}
}

// selfSignedChain makes a CA and a server certificate for 127.0.0.1 signed
// by it, all PEM.
func selfSignedChain(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "roomwire test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
