module chaptermaps

go 1.27
