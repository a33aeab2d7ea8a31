module github.com/roomwire/roomwire/api

go 1.26.8
