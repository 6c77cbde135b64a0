package main

// Redis-protocol stores (Redis, Valkey, Pika, Kvrocks): redis:// and rediss://.
import (
	_ "github.com/imbundle/imbundle/exporter/redis"
	_ "github.com/imbundle/imbundle/importer/redis"
)
