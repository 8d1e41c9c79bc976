package intake

import "testing"

func TestBatches(t *testing.T) {
	var news []newMsg
	for _, size := range []int64{10, 10, 10, 100, 10, 10, 10, 10} {
		news = append(news, newMsg{size: size})
	}
	var got []int
	for b := range cutBatches(news, 3, 50) {
		got = append(got, len(b))
	}
	want := []int{3, 1, 3, 1} // 3 by count; the 100 alone (over the bytes); 3; 1
	if len(got) != len(want) {
		t.Fatalf("batches = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batches = %v, want %v", got, want)
		}
	}
}
