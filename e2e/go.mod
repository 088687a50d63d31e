module github.com/jwtverify/jwtverify/e2e

go 1.25.0
