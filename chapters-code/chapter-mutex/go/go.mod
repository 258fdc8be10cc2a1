module chaptermutex

go 1.27
