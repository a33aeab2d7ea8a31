package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// minRSABits is the smallest RSA modulus accepted for verification.
const minRSABits = 2048

// Algorithm families. A key verifies only the algorithms of its own family,
// so a token can never pick how its key is interpreted: an RS256 public key
// is never used as an HMAC secret (the classic algorithm-confusion attack),
// and an HMAC secret never verifies an RS/ES/EdDSA signature.
var (
	hmacAlgs  = []string{"HS256", "HS384", "HS512"}
	rsaAlgs   = []string{"RS256", "RS384", "RS512"}
	ecAlgs    = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
	eddsaAlgs = []string{"EdDSA"}
)

// supported lists every algorithm a Verifier can accept, in a stable order.
var supported = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"}

// key is one verification key with the algorithms it may verify.
type key struct {
	kid  string   // "" for secrets and PEM keys
	algs []string // the only algorithms this key verifies
	pub  any      // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

func (k key) allows(alg string) bool { return slices.Contains(k.algs, alg) }

func secretKey(secret []byte) key { return key{algs: hmacAlgs, pub: secret} }

// publicKey wraps an asymmetric public key with its family's algorithms.
// RSA keys under minRSABits and curves other than P-256/384/521 are refused.
func publicKey(kid string, pub any) (key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return key{}, fmt.Errorf("RSA key of %d bits is too small (at least %d)", p.N.BitLen(), minRSABits)
		}
		return key{kid: kid, algs: rsaAlgs, pub: p}, nil
	case *ecdsa.PublicKey:
		alg, ok := ecAlgs[p.Curve.Params().Name]
		if !ok {
			return key{}, fmt.Errorf("EC curve %s is not supported", p.Curve.Params().Name)
		}
		return key{kid: kid, algs: []string{alg}, pub: p}, nil
	case ed25519.PublicKey:
		return key{kid: kid, algs: eddsaAlgs, pub: p}, nil
	}
	return key{}, fmt.Errorf("unsupported public key type %T", pub)
}

// ParsePublicKeysPEM parses every PUBLIC KEY, RSA PUBLIC KEY and CERTIFICATE
// block of a PEM file (several keys allow rotation). Private keys are
// refused, so a misconfigured path cannot leak signing material into use.
func ParsePublicKeysPEM(data []byte) ([]any, error) {
	var out []any
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var pub any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q is not a public key", b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", b.Type, err)
		}
		if _, err := publicKey("", pub); err != nil {
			return nil, err
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return out, nil
}

// jwk is the subset of RFC 7517/7518/8037 a verifier needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWK Set. Keys that are not for signatures, symmetric
// ("oct") keys, unsupported types and malformed keys are skipped (a JWKS
// may hold keys for other consumers); skipped counts them. A key's "alg",
// when present, narrows what it verifies.
func parseJWKS(data []byte) (keys []key, skipped int, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, 0, fmt.Errorf("JWKS is not JSON: %w", err)
	}
	for _, raw := range set.Keys {
		var j jwk
		if json.Unmarshal(raw, &j) != nil || (j.Use != "" && j.Use != "sig") {
			skipped++
			continue
		}
		k, err := j.key()
		if err != nil {
			skipped++
			continue
		}
		if j.Alg != "" {
			if !k.allows(j.Alg) {
				skipped++
				continue
			}
			k.algs = []string{j.Alg}
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

func (j jwk) key() (key, error) {
	b64 := base64.RawURLEncoding
	switch j.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(j.N)
		e, err2 := b64.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return key{}, errors.New("bad RSA key")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return key{}, errors.New("bad RSA exponent")
		}
		return publicKey(j.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp})
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return key{}, errors.New("unsupported curve")
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := b64.DecodeString(j.X)
		y, err2 := b64.DecodeString(j.Y)
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return key{}, errors.New("bad EC point")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return key{}, err
		}
		return publicKey(j.Kid, pub)
	case "OKP":
		x, err := b64.DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return key{}, errors.New("bad OKP key")
		}
		return publicKey(j.Kid, ed25519.PublicKey(x))
	}
	return key{}, fmt.Errorf("unsupported key type %q", j.Kty)
}
