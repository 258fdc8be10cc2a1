module chaptermemorymodel

go 1.27
