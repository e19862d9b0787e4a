// Command fasthello is hello.go on fasthttp: one handler answering the same
// fixed small JSON body. It is the ceiling of a server on fasthttp, as
// hello.go is net/http's; bench/serving/run.sh measures mlserve's api (on
// its fasthttp front) against both.
//
//	go build -o fasthello ./bench/serving/fasthello
//	./fasthello -addr 127.0.0.1:5004
package main

import (
	"flag"
	"log"

	"github.com/valyala/fasthttp"
)

var body = []byte(`{"data":{"result":0.5},"message":{"status_code":200,"status_message":"OK"}}` + "\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:5004", "listen address")
	flag.Parse()
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			c.SetContentType("application/json")
			c.Write(body)
		},
		NoDefaultServerHeader: true,
	}
	log.Printf("fasthello listening on %s", *addr)
	log.Fatal(srv.ListenAndServe(*addr))
}
