package httpx

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// IsLoopback reports whether the request came from the local machine.
func IsLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Admin guards write and admin routes with the token (see Guard).
func Admin(token string, logger *slog.Logger, next http.Handler) http.Handler {
	return Guard{Token: token, Logger: logger}.Wrap(next)
}

// Guard is the authorisation of the write and admin routes.
//
// With a Token, a request needs "Authorization: Bearer TOKEN": the scheme in
// any case (RFC 7235), spaces around the token ignored, the token compared
// in constant time; 401 otherwise.
//
// Without one the routes are open to local clients only, and a request is
// refused with 403 when
//   - its peer is not a loopback address;
//   - it carries a header a proxy adds (Forwarded, X-Forwarded-For,
//     X-Forwarded-Host, X-Forwarded-Proto, X-Real-Ip): a reverse proxy on
//     this host makes every client of the internet a loopback peer;
//   - its Host is not localhost, an IP address or the host of the listen
//     address: a name that is none of these reached the server through a DNS
//     record pointing at this machine (DNS rebinding lets a web page do so);
//   - it comes from a web page of another origin than the server's own: an
//     Origin other than the request's scheme, Host and port ("null"
//     included), or Sec-Fetch-Site other than same-origin or none. A
//     same-site page (another port of localhost) is refused too: the write
//     routes answer no CORS, so no page but the server's own may post to
//     them.
type Guard struct {
	Token string
	// Listen is the listen address (host:port); a name as its host is
	// accepted in Host besides localhost and IP addresses.
	Listen string
	Logger *slog.Logger
}

// proxyHeaders are the headers a reverse proxy adds to say whom it
// forwards.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}

// Wrap returns next behind the guard.
func (g Guard) Wrap(next http.Handler) http.Handler {
	logger := g.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	listenHost, _, err := net.SplitHostPort(g.Listen)
	if err != nil {
		listenHost = g.Listen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.Token != "" {
			if !bearer(r.Header.Get("Authorization"), g.Token) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mlserve"`)
				WriteError(w, r, logger, Errorf(http.StatusUnauthorized, "unauthorized", "this route needs Authorization: Bearer <MLSERVE_ADMIN_TOKEN>"))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if why := localOnly(r, listenHost); why != "" {
			WriteError(w, r, logger, Errorf(http.StatusForbidden, "forbidden",
				"without MLSERVE_ADMIN_TOKEN the write routes answer local clients only, and %s; set MLSERVE_ADMIN_TOKEN and send Authorization: Bearer <token>", why))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer reports whether the Authorization header value carries the token
// with the Bearer scheme.
func bearer(header, token string) bool {
	header = strings.Trim(header, " \t")
	i := strings.IndexAny(header, " \t")
	if i < 0 || !strings.EqualFold(header[:i], "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.Trim(header[i:], " \t")), []byte(token)) == 1
}

// localOnly returns why r is not a request of a local client, or "".
func localOnly(r *http.Request, listenHost string) string {
	if !IsLoopback(r) {
		return "this request's peer is not a loopback address"
	}
	for _, h := range proxyHeaders {
		if _, ok := r.Header[h]; ok {
			return fmt.Sprintf("this request came through a proxy (it has a %s header)", h)
		}
	}
	host, port := splitHost(r.Host)
	if !strings.EqualFold(host, "localhost") && net.ParseIP(host) == nil && (listenHost == "" || !strings.EqualFold(host, listenHost)) {
		return fmt.Sprintf("this request's Host %q is not localhost, an IP address or the listen address (a guard against DNS rebinding)", r.Host)
	}
	for _, origin := range r.Header["Origin"] {
		if !sameOrigin(origin, r, host, port) {
			return fmt.Sprintf("this request comes from a web page of another origin (Origin %q)", origin)
		}
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("this request comes from a web page of another origin (Sec-Fetch-Site: %s)", site)
	}
	return ""
}

// splitHost splits a Host header into host (brackets of an IPv6 address
// removed) and port ("" when absent).
func splitHost(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
}

// sameOrigin reports whether origin is the origin of r itself: its scheme,
// host and port, the default port of the scheme when none is written.
func sameOrigin(origin string, r *http.Request, host, port string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return false
	}
	defaultPort := map[string]string{"http": "80", "https": "443"}[scheme]
	oport := u.Port()
	if oport == "" {
		oport = defaultPort
	}
	if port == "" {
		port = defaultPort
	}
	return strings.EqualFold(u.Hostname(), host) && oport == port
}

// NotLocal returns why r is not a local client's request by the rules of a
// Guard without Token (see Guard), or "" when it is.
func (g Guard) NotLocal(r *http.Request) string {
	listenHost, _, err := net.SplitHostPort(g.Listen)
	if err != nil {
		listenHost = g.Listen
	}
	return localOnly(r, listenHost)
}
