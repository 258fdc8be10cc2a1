module benches

go 1.27
