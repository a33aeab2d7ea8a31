module github.com/roomwire/roomwire/ws

go 1.26.8
