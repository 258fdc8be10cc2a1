module chapteralloc

go 1.27
