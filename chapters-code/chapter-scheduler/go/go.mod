module chaptersched

go 1.27
