package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// requestTimeout bounds every call to a server's API, whatever context the
// caller passes: a server that accepts the connection and never answers
// must fail one poll of Eventually, not hang the test until go test's own
// timeout kills the binary without the servers' logs.
const requestTimeout = 10 * time.Second

// fetch sends req through client, gives the server at most requestTimeout
// (less if req's context ends sooner) to send the whole response, and
// returns its status and body.
func fetch(client *http.Client, req *http.Request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL, err)
	}
	return resp.StatusCode, body, nil
}
