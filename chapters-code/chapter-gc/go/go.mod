module chaptergc

go 1.27
