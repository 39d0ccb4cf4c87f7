package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxies are the addresses whose X-Forwarded-For and X-Forwarded-Proto
// the node believes (configuration trusted_proxies: addresses or CIDR
// prefixes of the TLS proxy in front of the node).
type proxies []netip.Prefix

func parseProxies(list []string) (proxies, error) {
	var out proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is neither an address nor a prefix", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (ps proxies) trusts(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client returns the address of the person behind r and whether r came
// over TLS. Through a trusted proxy they are the forwarded ones: the
// nearest address in X-Forwarded-For that is not itself a trusted proxy,
// and X-Forwarded-Proto; from anyone else those headers are ignored.
func (s *Server) client(r *http.Request) (ip string, tls bool) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if !s.proxies.trusts(ip) {
		return ip, r.TLS != nil
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // a hop that is not an address: believe nothing further left
		}
		ip = hop
		if !s.proxies.trusts(hop) {
			break
		}
	}
	protos := strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")
	return ip, r.TLS != nil || strings.TrimSpace(protos[len(protos)-1]) == "https"
}

func (s *Server) clientIP(r *http.Request) string {
	ip, _ := s.client(r)
	return ip
}

// cookieName is name as sent: with the __Host- prefix (which browsers
// accept only with Secure, Path=/ and no Domain) unless the node serves
// plain HTTP on loopback (plain_http_cookies, the demo's).
func (s *Server) cookieName(name string) string {
	if s.n.Config.PlainHTTPCookies {
		return name
	}
	return "__Host-" + name
}

// setCookie sets a cookie of the node: HttpOnly, Path=/, and Secure unless
// plain_http_cookies.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int, same http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: !s.n.Config.PlainHTTPCookies, SameSite: same})
}
