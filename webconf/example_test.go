package webconf_test

import (
	"fmt"

	"github.com/warden-exporter/warden/webconf"
)

// A bearer token is shown once; only its hash goes into the auth file
// (bearer_tokens: NAME: HASH), so a stolen auth file reveals no token.
func ExampleNewToken() {
	token, hash, err := webconf.NewToken()
	if err != nil {
		panic(err)
	}
	fmt.Println("token characters:", len(token))
	fmt.Println("hash:", hash[:len("sha256:")], len(hash[len("sha256:"):]), "hex digits")
	fmt.Println("hash matches:", webconf.HashToken(token) == hash)
	// Output:
	// token characters: 43
	// hash: sha256: 64 hex digits
	// hash matches: true
}

func ExampleHashToken() {
	fmt.Println(webconf.HashToken("not-a-real-token"))
	// Output:
	// sha256:c4afaac67e1e5c2a2d578d8eee65b5abad08ae7dea98d619fd966250ea700609
}
